"""get_microstructure_health: component formulas, levels, range invariants."""

from __future__ import annotations

import random

import msgspec
import pytest
from hypothesis import given, reject, settings

from query.analytics import InsufficientData, get_microstructure_health
from query.analytics.health import activity_score, classify, depth_score, flow_score, spread_score
from tests.unit.analytics.builders import snap
from tests.unit.analytics.markets import bursty, calm_market
from tests.unit.analytics.strategies import sessions

START, WINDOW = 10_000, 60
COMPONENTS = (
    "spread_stability_score",
    "liquidity_depth_score",
    "flow_balance_score",
    "update_rate_score",
)


def health(snaps, trades, start=START + 600, end=START + 660):
    return get_microstructure_health(
        snaps, trades, symbol="TESTUSDT", window_start=start, window_end=end
    )


def test_calm_market_is_healthy():
    snaps, trades = calm_market(random.Random(1), START, 660)
    result = health(snaps, trades)
    assert result["baseline_used"] is True
    assert result["health_level"] in ("Excellent", "Good")
    assert result["overall_score"] >= 70
    assert result["components"]["update_activity"]["rate_ratio"] == pytest.approx(1.0, abs=0.1)
    weights = result["weights"]
    expected = (
        weights["spread_stability"] * result["spread_stability_score"]
        + weights["liquidity_depth"] * result["liquidity_depth_score"]
        + weights["flow_balance"] * result["flow_balance_score"]
        + weights["update_activity"] * result["update_rate_score"]
    )
    assert result["overall_score"] == pytest.approx(expected)
    assert sum(weights.values()) == pytest.approx(1.0)


def test_depth_collapse_and_frozen_feed_lower_the_score():
    def thin(second, bids, asks):
        if second >= START + 600:
            for level in (*bids, *asks):
                level[1] //= 10

    calm = health(*calm_market(random.Random(2), START, 660))
    snaps, trades = calm_market(random.Random(2), START, 660, tweak=thin)
    # Freeze the exchange's update ids inside the window: no updates at all.
    frozen = [
        msgspec.structs.replace(s, update_id=snaps[599].update_id) if s.second >= START + 600 else s
        for s in snaps
    ]
    result = health(frozen, trades)
    assert result["liquidity_depth_score"] == pytest.approx(10, abs=2)
    assert result["update_rate_score"] == 0.0
    assert result["overall_score"] < calm["overall_score"] - 30


def test_update_activity_uses_exchange_ids_not_snapshot_count():
    # Same snapshots every second; only the exchange's update-id progress differs.
    window = [100] * 59
    assert activity_score(window, [100] * 600)[0] == pytest.approx(100.0)
    assert activity_score([800] * 59, [100] * 600)[0] == pytest.approx(0.0)  # 8x: frenzy
    assert activity_score([200] * 59, [100] * 600)[0] == pytest.approx(100 * (1 - 1 / 3))
    assert activity_score([0] * 59, None)[0] == 0.0


def test_component_formulas():
    assert spread_score([1.0, 1.0], [1.0])[0] == pytest.approx(100.0)
    # cv = 0.5/1.5 -> variability 2/3; median 1.5 vs reference 1 -> level 2/3.
    assert spread_score([1.0, 2.0], [1.0])[0] == pytest.approx(100 * 2 / 3)
    assert depth_score([50.0, 50.0, 50.0, 50.0], [100.0])[0] == pytest.approx(50.0)
    assert flow_score((1, 1), (0, 0), [0.0])[0] == pytest.approx(100.0)
    assert flow_score((3, 1), (1, 0), [0.0])[0] == pytest.approx(100 * (1 - (0.5 + 1 + 0) / 3))


def test_levels_need_every_component_for_excellent():
    scores = {"a": 100.0, "b": 40.0}
    assert classify(85.0, scores)[0] == "Good"
    assert classify(85.0, {"a": 90.0, "b": 80.0})[0] == "Excellent"
    assert [classify(x, {"a": x})[0] for x in (65, 45, 25, 5)] == [
        "Good",
        "Fair",
        "Poor",
        "Critical",
    ]
    assert "b (40)" in classify(85.0, scores)[1]


def test_start_up_without_baseline_still_answers():
    snaps, trades = calm_market(random.Random(3), START, 30)
    result = health(snaps, trades, START + 10, START + 30)
    assert result["baseline_used"] is False
    assert 0 <= result["overall_score"] <= 100


def test_insufficient():
    snaps, trades = calm_market(random.Random(3), START, 1)
    with pytest.raises(InsufficientData) as info:
        health(snaps, trades, START, START + 60)
    assert info.value.needed == 2


@settings(max_examples=100, deadline=None)
@given(sessions(max_size=15))
def test_scores_stay_in_range(data):
    snaps, trades = data
    try:
        result = health(snaps, trades, 1005, 1015)
    except InsufficientData:
        reject()  # too few seconds to judge: discarded, it proves nothing
    for key in (*COMPONENTS, "overall_score"):
        assert 0.0 <= result[key] <= 100.0
    assert result["health_level"] in ("Excellent", "Good", "Fair", "Poor", "Critical")


def test_a_window_like_its_bursty_baseline_keeps_full_activity():
    # Defect 2: mean of the window against the median of the baseline scored activity 0.
    snaps, trades = bursty(50_000, trades_too=True)
    result = get_microstructure_health(
        snaps, trades, symbol="TESTUSDT", window_start=50_600, window_end=50_660
    )
    activity = result["components"]["update_activity"]
    # 59 bursts in the baseline's 599 pairs, 6 in the window's 60.
    assert activity["rate_ratio"] == pytest.approx((6 * 300 + 54) / 60 / ((59 * 300 + 540) / 599))
    assert result["update_rate_score"] > 99.0


def test_crossed_books_are_not_scored():
    # Defect 10: a crossed book (best bid >= best ask) has a negative spread, which scored 100.
    crossed = [snap(s, [("100.02", "1")], [("100.00", "1")]) for s in range(100, 110)]
    with pytest.raises(InsufficientData):
        get_microstructure_health(crossed, [], symbol="TESTUSDT", window_start=100, window_end=110)
