"""detect_market_anomalies: each detector fires on its pattern, stays quiet on a calm book."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from query.analytics import InsufficientData, detect_market_anomalies
from shared.model import Trade
from tests.unit.analytics.markets import TICK, UNIT, calm_market

START = 50_000
W0, W1 = START + 600, START + 660


def detect(snaps, trades, start=W0, end=W1):
    return detect_market_anomalies(
        snaps, trades, symbol="TESTUSDT", window_start=start, window_end=end
    )


def kinds(result):
    return [a["type"] for a in result["anomalies"]]


def check_records(result):
    for a in result["anomalies"]:
        assert 0.0 <= a["confidence"] <= 1.0
        assert a["severity"] in ("Low", "Medium", "High", "Critical")
        assert a["recommended_action"]
        assert isinstance(a["evidence"], dict)
        assert a["evidence"]


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10**6), st.booleans())
def test_calm_book_has_no_anomaly(seed, drift):
    snaps, trades = calm_market(random.Random(seed), START, 660, drift=drift)
    result = detect(snaps, trades)
    assert result["anomalies"] == []
    assert result["checks_skipped"] == {}


def stuffed(rate_in_window: int, trades_in_window: bool = False, seed: int = 1):
    snaps, trades = calm_market(random.Random(seed), START, 660)
    extra = 0
    out = []
    for s in snaps:
        if s.second >= W0:
            extra += rate_in_window - 100
        out.append(dataclasses.replace(s, update_id=s.update_id + extra))
    if not trades_in_window:
        trades = [t for t in trades if t.ts_trade < W0 * 1000]
    return out, trades


def test_quote_stuffing_fires_with_rate_far_above_baseline_and_few_trades():
    result = detect(*stuffed(1000))
    check_records(result)
    stuffing = [a for a in result["anomalies"] if a["type"] == "QuoteStuffing"]
    assert len(stuffing) == 1
    evidence = stuffing[0]["evidence"]
    assert 9 < evidence["rate_ratio"] < 11
    assert evidence["window_trades"] == 0
    # Stronger signal, higher confidence.
    stronger = detect(*stuffed(3000))
    assert (
        next(a for a in stronger["anomalies"] if a["type"] == "QuoteStuffing")["confidence"]
        > stuffing[0]["confidence"]
    )


def test_quote_stuffing_needs_few_trades():
    snaps, trades = stuffed(1000, trades_in_window=True)
    # Trading keeps pace with updates: 10x the trades too.
    more = [
        Trade(10**7 + i, t.price, t.qty, t.ts_trade, t.buyer_maker)
        for i, t in enumerate(t for t in trades if t.ts_trade >= W0 * 1000 for _ in range(10))
    ]
    assert "QuoteStuffing" not in kinds(detect(snaps, trades + more))


def test_start_up_without_baseline_never_fires_stuffing():
    snaps, trades = calm_market(random.Random(4), W0 - 5, 65, rate=5000, trades_per_second=0)
    result = detect(snaps, trades)
    assert "QuoteStuffing" not in kinds(result)
    assert "quote_stuffing" in result["checks_skipped"]
    assert "flash_crash_risk" in result["checks_skipped"]


def test_iceberg_refilled_after_trades():
    ask = 10_001 * TICK  # the best ask of the calm book (mid 100.00, no drift)

    def pin(second, bids, asks):
        # The ask at `ask` is always shown at 1.0 ...
        for level in asks:
            if level[0] == ask:
                level[1] = UNIT

    snaps, trades = calm_market(random.Random(5), START, 660, drift=False, tweak=pin)
    # ... while 1.5 trades at it in six window seconds: it refills every time.
    hits = [
        Trade(9 * 10**6 + s, ask, UNIT * 3 // 2, s * 1000 + 300, False)
        for s in range(W0 + 10, W0 + 16)
    ]
    result = detect(snaps, trades + hits)
    check_records(result)
    found = [a for a in result["anomalies"] if a["type"] == "IcebergOrder"]
    assert len(found) == 1
    assert found[0]["affected_price_levels"] == ["100.01000000"]
    assert found[0]["evidence"]["refill_count"] == 6
    assert found[0]["confidence"] == 1.0  # 6 refills, each taking >= the shown size
    fewer = detect(snaps, trades + hits[:3])
    assert next(a for a in fewer["anomalies"] if a["type"] == "IcebergOrder")["confidence"] == 0.5
    assert "IcebergOrder" not in kinds(detect(snaps, trades + hits[:2]))


def test_flash_crash_risk_on_depth_collapse_with_wide_spread():
    def crash(second, bids, asks):
        if second >= W1 - 8:
            for level in (*bids, *asks):
                level[1] //= 8
            del bids[:3]
            del asks[:3]

    snaps, trades = calm_market(random.Random(6), START, 660, tweak=crash)
    result = detect(snaps, trades)
    check_records(result)
    found = [a for a in result["anomalies"] if a["type"] == "FlashCrashRisk"]
    assert len(found) == 1
    assert found[0]["evidence"]["stressed_seconds"] == 8
    assert found[0]["evidence"]["spread_multiplier"] >= 6.9
    assert found[0]["evidence"]["depth_loss_pct"] > 80


def spoof_market(traded: bool = False, moved: bool = False):
    flash = W0 + 20

    def spoof(second, bids, asks):
        if second == flash:
            bids[2][1] += 50 * UNIT  # 50x the median level, 2 ticks from the touch
        if moved and second > flash:
            bids[3][1] += 50 * UNIT  # re-quoted one tick lower, and it stays

    snaps, trades = calm_market(random.Random(7), START, 660, drift=False, tweak=spoof)
    if traded:
        price = snaps[flash - START].bids[2][0]
        trades.append(Trade(10**8, price, 20 * UNIT, (flash + 1) * 1000 + 100, True))
    return snaps, trades


def test_spoofing_like_order_appears_and_vanishes_untraded():
    result = detect(*spoof_market())
    check_records(result)
    found = [a for a in result["anomalies"] if a["type"] == "SpoofingLike"]
    assert len(found) == 1
    assert found[0]["evidence"]["side"] == "bid"
    assert found[0]["affected_price_levels"] == ["99.98000000"]
    assert found[0]["evidence"]["largest"][0]["lifetime_seconds"] == 1


def test_spoofing_ignores_traded_or_requoted_orders():
    assert "SpoofingLike" not in kinds(detect(*spoof_market(traded=True)))
    assert "SpoofingLike" not in kinds(detect(*spoof_market(moved=True)))


def test_no_data_is_insufficient_not_calm():
    with pytest.raises(InsufficientData) as info:
        detect([], [])
    assert (info.value.have, info.value.needed) == (0, 2)
