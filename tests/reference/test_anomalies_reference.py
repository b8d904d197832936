"""detect_market_anomalies == its reference: random markets, firing fixtures, real recordings."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from query.analytics import ANOMALIES_HISTORY, detect_market_anomalies
from tests.reference.anomalies import anomalies
from tests.reference.compare import agree
from tests.reference.markets import START, Shape, market, shapes
from tests.unit.analytics.replay import btcusdt, ethusdt
from tests.unit.analytics.test_anomalies import (
    FLASHES,
    W0,
    W1,
    crash_market,
    iceberg_market,
    spoof_market,
    stuffed,
)


def check_anomalies(snaps, trades, start: int, end: int, symbol: str = "TESTUSDT") -> bool:
    def production():
        result = detect_market_anomalies(
            snaps, trades, symbol=symbol, window_start=start, window_end=end
        )
        # Wording (actions, skip reasons) is the code's; the docs define kinds and numbers.
        for record in result["anomalies"]:
            record["recommended_action"] = record["type"]
        result["checks_skipped"] = dict.fromkeys(result["checks_skipped"], True)
        return result

    return agree(production, lambda: anomalies(snaps, trades, start, end))


@settings(max_examples=8, deadline=None)
@given(shapes(st.sampled_from([3, 20]), seconds=st.integers(200, 215)))
def test_anomalies_equal_the_reference_on_random_markets(shape: Shape):
    snaps, trades = market(shape)
    check_anomalies(snaps, trades, START + 185, START + shape.seconds)


def test_anomalies_equal_the_reference_where_detectors_fire():
    for snaps, trades in (
        stuffed(1000),
        stuffed(1000, trades_in_window=True),
        iceberg_market(6),
        crash_market(),
        spoof_market(),
        spoof_market(FLASHES[:5]),
        spoof_market(moved=True),
    ):
        check_anomalies(snaps, trades, W0, W1)


def test_anomalies_equal_the_reference_on_the_recordings():
    # Every 60 s window at 30 s steps that has a minute of history (spoofing is judged from 180 s).
    for replay in (btcusdt(), ethusdt()):
        first, end = replay.snapshots[0].second, replay.snapshots[-1].second + 1
        for start in range(end - 60, first + 60, -30):
            low = start - ANOMALIES_HISTORY.snapshots
            snaps = [s for s in replay.snapshots if low <= s.second <= end]
            trades = [t for t in replay.trades if low * 1000 <= t.ts_trade < (end + 1) * 1000]
            assert check_anomalies(snaps, trades, start, start + 60, replay.symbol)
