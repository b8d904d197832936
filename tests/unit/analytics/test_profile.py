"""get_volume_profile: hand-computed bins, POC, value area, and their invariants."""

from __future__ import annotations

import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from query.analytics import (
    InsufficientData,
    ParameterError,
    PriceVolume,
    derive_symbol_tick,
    get_volume_profile,
    rows_from_trades,
)
from query.analytics.profile import auto_bin_size, pick_poc, value_area
from shared.fixedpoint import parse_fixed
from tests.unit.analytics.builders import fx, trade

TICK = 1_000_000


def profile(rows, tick_size=None, symbol_tick=None):
    return get_volume_profile(
        rows, symbol="TESTUSDT", start=0, end=3600, tick_size=tick_size, symbol_tick=symbol_tick
    )


def rows_at(volumes: dict[str, int]) -> list[PriceVolume]:
    # one trade per unit of volume, so MIN_TRADES is met by the volumes themselves
    return [PriceVolume(fx(p), v * 100_000_000, v, 0) for p, v in volumes.items()]


def test_hand_computed_value_area():
    # Bins of 0.01: volumes 1, 2, 10, 3, 5, 1, 1 at 100.00 .. 100.06 (total 23, 70% = 16.1).
    rows = rows_at(
        {"100.00": 1, "100.01": 2, "100.02": 10, "100.03": 3, "100.04": 5, "100.05": 1, "100.06": 1}
    )
    result = profile(rows, tick_size=TICK)
    assert result["bin_count"] == 7
    assert result["point_of_control"] == "100.02000000"
    # From the POC: above (3+5=8) vs below (2+1=3) -> add above: 18 >= 16.1, stop.
    assert result["value_area_low"] == "100.02000000"
    assert result["value_area_high"] == "100.05000000"
    assert result["value_area_volume"] == pytest.approx(18.0)
    assert result["total_volume"] == pytest.approx(23.0)
    assert result["total_trades"] == 23
    assert result["price_range_low"] == "100.00000000"
    assert result["price_range_high"] == "100.06000000"
    assert [b["trade_count"] for b in result["histogram"]] == [1, 2, 10, 3, 5, 1, 1]
    assert result["bin_size_source"] == "tick_size"


def test_value_area_tie_takes_both_pairs():
    assert value_area([1, 1, 5, 1, 1], 2) == (0, 4)


def test_poc_tie_goes_to_the_middle_then_lower():
    assert pick_poc([5, 1, 1, 1, 5]) == 0  # equally far from the middle: the lower bin
    assert pick_poc([5, 1, 5, 1, 1]) == 2  # nearer the middle


def test_bins_are_tick_multiples_and_at_most_100():
    low, high = fx("61556.04"), fx("61860.80")
    size = auto_bin_size(low, high, TICK)
    assert size % TICK == 0
    assert 50 <= high // size - low // size + 1 <= 100
    assert auto_bin_size(low, low + 30 * TICK, TICK) == TICK  # narrow range: one tick per bin


@pytest.mark.parametrize(
    "span_ticks", [0, 1, 97, 98, 99, 197, 198, 980, 9_800, 9_899, 9_900, 10**7]
)
def test_auto_bins_are_the_smallest_multiple_that_always_fits(span_ticks):
    # Defect 8: the size was ceil(span / 98 ticks), not the smallest multiple the docs promise.
    size = auto_bin_size(0, span_ticks * TICK, TICK)
    k = size // TICK
    assert size % TICK == 0
    assert span_ticks < 99 * k  # <= 100 aligned bins wherever the span falls
    assert k == 1 or span_ticks >= 99 * (k - 1)  # one tick less can need 101 bins
    for low in range(0, k * TICK, max(TICK, k * TICK // 7)):
        high = low + span_ticks * TICK
        assert high // size - low // size + 1 <= 100


def test_derive_tick_is_gcd():
    assert derive_symbol_tick([fx("100.01"), fx("100.05"), fx("101")]) == TICK
    with pytest.raises(InsufficientData):
        derive_symbol_tick([])


def test_rows_from_trades_aggregates_exactly():
    trades = [
        trade(1, "100.01", "0.1", taker="buy"),
        trade(2, "100.01", "0.2", taker="sell"),
        trade(3, "99.00", "1", taker="buy"),
    ]
    assert rows_from_trades(trades) == [
        PriceVolume(fx("99"), fx("1"), 1, fx("1")),
        PriceVolume(fx("100.01"), fx("0.3"), 2, fx("0.1")),
    ]


def test_needs_min_trades():
    with pytest.raises(InsufficientData) as info:
        profile(rows_at({"100.00": 3}))
    assert (info.value.what, info.value.have, info.value.needed) == ("trades", 3, 10)


def test_too_fine_tick_size_is_a_parameter_error():
    rows = rows_at({"100.00": 5, "200.00": 5})
    with pytest.raises(ParameterError) as info:
        profile(rows, tick_size=TICK, symbol_tick=TICK)
    assert info.value.param == "tick_size"
    assert "at most 2000" in str(info.value)
    assert "use at least 0.06000000" in str(info.value)


@pytest.mark.parametrize("symbol_tick", [TICK, None])  # known, or derived from the prices
@pytest.mark.parametrize("tick_size", ["0.015", "0.005", "0.025"])
def test_a_bin_that_is_not_a_tick_multiple_is_rejected(tick_size, symbol_tick):
    # Defect 7: 0.015 bins over 0.01 ticks hold one or two ticks in turn (a sawtooth histogram
    # and a wrong POC); 0.005 is finer than the tick. Rejected, naming the nearest multiples.
    rows = rows_at({f"{100 + i / 100:.2f}": 1 + i % 3 for i in range(40)})
    with pytest.raises(ParameterError) as info:
        profile(rows, tick_size=fx(tick_size), symbol_tick=symbol_tick)
    assert info.value.param == "tick_size"
    assert "must be a multiple of the symbol tick" in str(info.value)
    assert "0.01000000; nearest: " in str(info.value)


def test_a_bin_wider_than_the_traded_range_is_rejected():
    # Defect 7: a huge tick_size gave one bin [0, 9.2e10) and a value area ending there.
    rows = rows_at({f"{100 + i / 100:.2f}": 1 + i % 3 for i in range(40)})
    with pytest.raises(ParameterError) as info:
        profile(rows, tick_size=fx("92233720368"), symbol_tick=TICK)
    assert info.value.param == "tick_size"
    assert "at most 0.40000000" in str(info.value)
    assert profile(rows, tick_size=fx("0.40"), symbol_tick=TICK)["bin_count"] in (1, 2)


price_volumes = st.dictionaries(
    st.integers(9_000, 10_500).map(lambda t: t * TICK),
    st.tuples(st.integers(1, 10**10), st.integers(1, 50)),
    min_size=1,
    max_size=200,
)


@settings(max_examples=200, deadline=None)
@given(price_volumes, st.sampled_from([None, TICK, 7 * TICK, 100 * TICK]), st.randoms())
def test_value_area_invariants_and_permutation(data, tick_size, rnd: random.Random):
    rows = [PriceVolume(p, q, n, q // 2) for p, (q, n) in data.items()]
    assume(sum(n for _, n in data.values()) >= 10)
    assume(tick_size is None or tick_size <= max(data) - min(data) + TICK)
    result = profile(rows, tick_size=tick_size, symbol_tick=TICK)
    low, high = parse_fixed(result["value_area_low"]), parse_fixed(result["value_area_high"])
    poc = parse_fixed(result["point_of_control"])
    inside = sum(r.qty for r in rows if low <= r.price < high)
    total = sum(r.qty for r in rows)
    assert inside * 100 >= total * 70
    assert low <= poc < high
    assert parse_fixed(result["price_range_low"]) <= poc <= parse_fixed(result["price_range_high"])
    # Permuted, and split into several rows per price (per-minute aggregates): same answer.
    split = []
    for r in rows:
        if r.qty > 1 and r.trades > 1:
            split += [
                PriceVolume(r.price, r.qty - 1, r.trades - 1, 0),
                PriceVolume(r.price, 1, 1, r.taker_buy_qty),
            ]
        else:
            split.append(r)
    rnd.shuffle(split)
    again = profile(split, tick_size=tick_size, symbol_tick=TICK)
    for key in ("point_of_control", "value_area_low", "value_area_high", "bin_size", "histogram"):
        assert again[key] == result[key]
