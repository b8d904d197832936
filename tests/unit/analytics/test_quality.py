"""get_market_quality on hand-computed windows."""

from __future__ import annotations

import math

import pytest

from query.analytics import InsufficientData, ParameterError, get_market_quality
from shared.model import BookSnapshot
from tests.unit.analytics.builders import snap, trade

START, END = 1000, 1060


def quality(snaps, trades=(), start=START, end=END):
    return get_market_quality(
        snaps, list(trades), symbol="TESTUSDT", window_start=start, window_end=end
    )


def book(second: int, bid: str, ask: str, bid_qty: str = "1", ask_qty: str = "1") -> BookSnapshot:
    return snap(second, [(bid, bid_qty)], [(ask, ask_qty)])


def test_one_jump_is_all_variance_and_no_bipower():
    snaps = [
        book(s, "99.99", "100.01") if s < 1030 else book(s, "100.99", "101.01")
        for s in range(START - 1, END)
    ]
    vol = quality(snaps)["volatility"]
    jump = math.log(101 / 100)
    assert vol["returns"] == 60
    assert vol["realized_variance"] == pytest.approx(jump**2)
    assert vol["realized_volatility"] == pytest.approx(jump)
    assert vol["realized_volatility_annualized"] == pytest.approx(
        math.sqrt(jump**2 / 60 * 365 * 86_400)
    )
    assert (vol["bipower_terms"], vol["bipower_variation"]) == (59, 0.0)
    assert vol["jump_share"] == 1.0


def test_alternating_moves_give_bipower_equal_to_pi_over_two_times_the_variance():
    # |r| is the same every second: BV = (π/2)·Σ|r|² over 59 adjacent pairs.
    snaps = [
        book(s, "99.99", "100.01") if s % 2 else book(s, "100.00", "100.02")
        for s in range(START - 1, END)
    ]
    vol = quality(snaps)["volatility"]
    r = math.log(100.01 / 100.00)
    assert vol["realized_variance"] == pytest.approx(60 * r * r)
    assert vol["bipower_variation"] == pytest.approx(math.pi / 2 * 59 * r * r)
    assert vol["jump_share"] == 0.0  # BV per term (π/2)r² exceeds RV per return r²


def test_mid_moving_half_a_tick_per_unit_of_ofi_is_a_perfect_fit():
    # The bid steps between 100.00 and 100.01 (1 unit each), the ask stays at 100.03: each
    # step up is e = +1 unit with Δmid = +0.005, each step down e = -1 with Δmid = -0.005.
    snaps = [book(s, "100.01" if s % 2 else "100.00", "100.03") for s in range(START - 1, END)]
    impact = quality(snaps)["price_impact"]
    assert impact["observations"] == 60
    assert impact["impact_slope"] == pytest.approx(0.005)
    assert impact["impact_intercept"] == pytest.approx(0.0)
    assert impact["r_squared"] == pytest.approx(1.0)
    assert impact["multi_level_ofi"][0]["events"] == 60


def test_effective_realised_spread_and_impact_of_one_trade():
    # Book 100.00/100.02 (mid 100.01) until 1014, then 100.02/100.04 (mid 100.03). A taker buy
    # at 100.02 between books 1010 and 1011 met mid 100.01; 5 s and 30 s later the mid is 100.03.
    snaps = [
        book(s, "100.00", "100.02") if s < 1015 else book(s, "100.02", "100.04")
        for s in range(START - 1, END)
    ]
    buy = trade(1010, "100.02", "2", taker="buy", ms=950)
    result = quality(snaps, [buy])
    execution = result["execution"]
    assert execution["trades"] == 1
    assert execution["effective_spread_bps"] == pytest.approx(2 * 0.01 / 100.01 * 1e4)
    for h in (5, 30):
        assert execution[f"trades_{h}s"] == 1
        assert execution[f"realized_spread_{h}s_bps"] == pytest.approx(-2 * 0.01 / 100.01 * 1e4)
        assert execution[f"price_impact_{h}s_bps"] == pytest.approx(2 * 0.02 / 100.01 * 1e4)
    assert execution["quoted_spread"] == pytest.approx(0.02)
    assert execution["touch_depth_bid"] == pytest.approx(1.0)


def test_trades_too_close_to_the_end_have_no_30_second_horizon():
    snaps = [book(s, "100.00", "100.02") for s in range(START - 1, END)]
    late = trade(1040, "100.00", "1", taker="sell", ms=950)
    execution = quality(snaps, [late])["execution"]
    assert (execution["trades"], execution["trades_5s"], execution["trades_30s"]) == (1, 1, 0)
    assert execution["realized_spread_30s_bps"] is None
    assert execution["effective_spread_bps"] == pytest.approx(2 * 0.01 / 100.01 * 1e4)


def test_window_limits_and_insufficient_data():
    snaps = [book(s, "100.00", "100.02") for s in range(START - 1, END)]
    with pytest.raises(ParameterError):
        quality(snaps, end=START + 59)
    with pytest.raises(ParameterError):
        quality(snaps, end=START + 3601)
    with pytest.raises(InsufficientData):
        quality(snaps[::2])  # no consecutive pair
