"""detect_market_anomalies: each detector fires on its pattern, stays quiet on a calm book."""

from __future__ import annotations

import math
import random

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from query.analytics import InsufficientData, detect_market_anomalies
from shared.model import Trade
from tests.unit.analytics.markets import TICK, UNIT, bursty, calm_market

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
    # The calm book never trades a level away, so the iceberg check has no refill baseline.
    assert set(result["checks_skipped"]) == {"iceberg"}
    assert "heavy hits" in result["checks_skipped"]["iceberg"]


def stuffed(rate_in_window: int, trades_in_window: bool = False, seed: int = 1):
    snaps, trades = calm_market(random.Random(seed), START, 660)
    extra = 0
    out = []
    for s in snaps:
        if s.second >= W0:
            extra += rate_in_window - 100
        out.append(msgspec.structs.replace(s, update_id=s.update_id + extra))
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
    assert result["anomalies"] == []
    assert set(result["checks_skipped"]) == {
        "quote_stuffing",
        "flash_crash_risk",
        "iceberg",
        "spoofing",
    }


def iceberg_market(window_hits: int):
    """Baseline: the best bid is hit heavily every 10 s and stays depleted (no refill), as real
    levels mostly do. Window: the ask at 100.01 is always shown at 1.0 while 1.5 trades at it
    in `window_hits` seconds: it refills every time."""
    ask = 10_001 * TICK  # the best ask of the calm book (mid 100.00, no drift)
    hit_seconds = set(range(START + 5, W0 - 5, 10))

    def pin(second, bids, asks):
        for level in asks:
            if level[0] == ask:
                level[1] = UNIT
        if second in hit_seconds:
            bids[0][1] //= 2

    snaps, trades = calm_market(random.Random(5), START, 660, drift=False, tweak=pin)
    base_hits = [
        Trade(8 * 10**6 + s, 10_000 * TICK, UNIT * 8 // 10, s * 1000 + 300, True)
        for s in sorted(hit_seconds)
    ]
    hits = [
        Trade(9 * 10**6 + s, ask, UNIT * 3 // 2, s * 1000 + 300, False)
        for s in range(W0 + 10, W0 + 10 + window_hits)
    ]
    return snaps, trades + base_hits + hits


def test_iceberg_refilled_after_trades():
    result = detect(*iceberg_market(6))
    check_records(result)
    assert result["checks_skipped"] == {}
    found = [a for a in result["anomalies"] if a["type"] == "IcebergOrder"]
    assert len(found) == 1
    assert found[0]["affected_price_levels"] == ["100.01000000"]
    evidence = found[0]["evidence"]
    assert (evidence["refill_count"], evidence["heavy_hits"]) == (6, 6)
    assert evidence["baseline_heavy_hits"] == 59
    assert evidence["baseline_refills"] == 0
    # Fisher: all 6 refills of 65 heavy hits fell on this level's 6 → p = 1 / C(65, 6).
    assert evidence["evidence_log10"] == pytest.approx(math.log10(math.comb(65, 6)))
    # More refills, stronger evidence, higher confidence; fewer than 3 never fires.
    fewer = detect(*iceberg_market(3))
    weaker = next(a for a in fewer["anomalies"] if a["type"] == "IcebergOrder")
    assert 0.5 <= weaker["confidence"] < found[0]["confidence"]
    assert "IcebergOrder" not in kinds(detect(*iceberg_market(2)))


def test_iceberg_not_judged_without_refill_baseline():
    snaps, trades = iceberg_market(6)
    baseline_hits = {8 * 10**6 + s for s in range(START, W0)}
    result = detect(snaps, [t for t in trades if t.agg_id not in baseline_hits])
    assert "IcebergOrder" not in kinds(result)
    assert "iceberg" in result["checks_skipped"]


def crash_market():
    """The window's last 8 seconds: every level at 1/8 of its size, the best 3 of each side gone."""

    def crash(second, bids, asks):
        if second >= W1 - 8:
            for level in (*bids, *asks):
                level[1] //= 8
            del bids[:3]
            del asks[:3]

    return calm_market(random.Random(6), START, 660, tweak=crash)


def test_flash_crash_risk_on_depth_collapse_with_wide_spread():
    snaps, trades = crash_market()
    result = detect(snaps, trades)
    check_records(result)
    found = [a for a in result["anomalies"] if a["type"] == "FlashCrashRisk"]
    assert len(found) == 1
    assert found[0]["evidence"]["stressed_seconds"] == 8
    assert found[0]["evidence"]["spread_multiplier"] >= 6.9
    assert found[0]["evidence"]["depth_loss_pct"] > 80


FLASHES = tuple(range(W0 + 5, W0 + 55, 5))  # ten flashes, one every 5 s


def spoof_market(flashes=FLASHES, traded: bool = False, moved: bool = False):
    """A 50-lot bid (25x the median level) two ticks off the touch, shown for one second at
    each flash second; `traded`: 20 lots trade at it each time; `moved`: it is re-quoted one
    tick lower instead of vanishing (a pegged quote)."""

    def spoof(second, bids, asks):
        if second in flashes:
            bids[2][1] += 50 * UNIT
        elif moved and second > flashes[0]:
            bids[3][1] += 50 * UNIT

    snaps, trades = calm_market(random.Random(7), START, 660, drift=False, tweak=spoof)
    if traded:
        for flash in flashes:
            price = snaps[flash - START].bids[2][0]
            trades.append(Trade(10**8 + flash, price, 20 * UNIT, (flash + 1) * 1000 + 100, True))
    return snaps, trades


def test_repeated_spoofing_like_order_fires_against_a_quiet_baseline():
    result = detect(*spoof_market())
    check_records(result)
    found = [a for a in result["anomalies"] if a["type"] == "SpoofingLike"]
    assert len(found) == 1
    evidence = found[0]["evidence"]
    assert found[0]["affected_price_levels"] == ["99.98000000"]
    assert (evidence["side"], evidence["events"], evidence["baseline_events"]) == ("bid", 10, 0)
    assert evidence["outsized_events"] == 10
    assert evidence["largest"][0]["lifetime_seconds"] == 1
    # 10 of 10 events in the window's 55 of 649 followable seconds (each span's last 5 seconds
    # cannot be followed for the whole lifetime): p = (55/649)^10, x2 for two tests.
    expected = -10 * math.log10(55 / 649) - math.log10(2)
    assert evidence["evidence_log10"] == pytest.approx(expected)
    assert found[0]["severity"] == "High"
    # Fewer repetitions, weaker evidence, lower confidence.
    five = detect(*spoof_market(FLASHES[:5]))
    weaker = next(a for a in five["anomalies"] if a["type"] == "SpoofingLike")
    assert 0.5 <= weaker["confidence"] < found[0]["confidence"]


def test_a_single_flash_is_not_spoofing():
    # One appear-and-vanish lands in the window with probability 60/659 even when nothing
    # changed: far from the p <= 1e-4 a finding needs.
    assert "SpoofingLike" not in kinds(detect(*spoof_market(FLASHES[:1])))


def test_spoofing_ignores_traded_or_requoted_orders():
    assert "SpoofingLike" not in kinds(detect(*spoof_market(traded=True)))
    assert "SpoofingLike" not in kinds(detect(*spoof_market(moved=True)))


def test_spoofing_is_not_judged_on_a_cold_start():
    snaps, trades = spoof_market()
    recent = [s for s in snaps if s.second >= W0 - 120]
    result = detect(recent, trades)
    assert "SpoofingLike" not in kinds(result)
    assert "spoofing" in result["checks_skipped"]


def test_no_data_is_insufficient_not_calm():
    with pytest.raises(InsufficientData) as info:
        detect([], [])
    assert (info.value.have, info.value.needed) == (0, 2)


def test_a_window_like_its_bursty_baseline_is_not_stuffing():
    # Defect 2: the window's mean rate (31/s) was compared with the baseline's median (1/s).
    snaps, trades = bursty(START)
    result = detect(snaps, trades)
    assert "QuoteStuffing" not in kinds(result)


def test_stuffing_counts_trades_and_updates_over_the_same_seconds():
    # Defect 9: the window's trades were counted over all its seconds, its updates only over
    # its consecutive pairs. Here 50 of the window's 60 books are missing: 180 trades against
    # 10 pairs' updates looked like trading kept pace (tpu 0.018 > half the baseline's 0.03).
    snaps, trades = stuffed(1000, trades_in_window=True)
    kept = [s for s in snaps if not W0 + 10 <= s.second < W1]
    result = detect(kept, trades)
    stuffing = [a for a in result["anomalies"] if a["type"] == "QuoteStuffing"]
    assert len(stuffing) == 1
    assert stuffing[0]["evidence"]["window_trades"] == 30  # the trades of the 10 pairs


def test_baseline_spoofing_events_do_not_borrow_the_window():
    # Defect 9: a flash in the baseline's last second was followed into the window's books,
    # while the window's own last seconds cannot be followed at all.
    found = [
        a
        for a in detect(*spoof_market((W0 - 1, *FLASHES)))["anomalies"]
        if a["type"] == "SpoofingLike"
    ]
    assert len(found) == 1
    assert (found[0]["evidence"]["events"], found[0]["evidence"]["baseline_events"]) == (10, 0)
