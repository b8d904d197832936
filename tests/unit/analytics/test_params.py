"""Parameter validators: JSON-ish input accepted, bad input named with its allowed range."""

from __future__ import annotations

import pytest

from query.analytics import (
    ParameterError,
    check_hours,
    check_levels,
    check_symbol,
    check_threshold,
    check_tick_size,
    check_window,
    detect_market_anomalies,
    get_liquidity_vacuums,
    get_microstructure_health,
    get_order_flow,
    get_volume_profile,
    rows_from_trades,
)
from tests.unit.analytics.builders import snap, trade


def test_symbol_is_upper_cased_and_validated():
    assert check_symbol(" btcusdt ") == "BTCUSDT"
    for bad in (None, "", "BTC-USDT", 5, "x"):
        with pytest.raises(ParameterError) as info:
            check_symbol(bad)
        assert info.value.param == "symbol"


@pytest.mark.parametrize(("value", "expected"), [(None, 60), (10, 10), ("300", 300), (45.0, 45)])
def test_window_accepts_json_numbers(value, expected):
    assert check_window(value) == expected


@pytest.mark.parametrize("value", [9, 301, "abc", 12.5, True, [], "nan", float("inf")])
def test_window_rejects_with_name_and_range(value):
    with pytest.raises(ParameterError) as info:
        check_window(value)
    assert info.value.param == "window_duration_secs"
    assert "window_duration_secs" in str(info.value)
    assert "10 to 300" in str(info.value)


def test_hours_defaults_and_custom_name():
    assert check_hours(None) == 24
    assert check_hours("168") == 168
    with pytest.raises(ParameterError, match=r"duration_hours.*1 to 168"):
        check_hours(169)
    with pytest.raises(ParameterError) as info:
        check_hours(0, name="hours")
    assert info.value.param == "hours"


def test_levels_range():
    assert check_levels(None) == 20
    assert check_levels("100") == 100
    for bad in (0, 101, "x"):
        with pytest.raises(ParameterError, match=r"levels.*1 to 100"):
            check_levels(bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("0.01", 1_000_000), (0.1, 10_000_000), (10, 1_000_000_000), ("0.00000001", 1)],
)
def test_tick_size_exact(value, expected):
    assert check_tick_size(value) == expected


@pytest.mark.parametrize("value", ["0", -1, "0.000000001", "abc", True, {}, float("nan")])
def test_tick_size_rejects(value):
    with pytest.raises(ParameterError) as info:
        check_tick_size(value)
    assert info.value.param == "tick_size"
    assert "positive" in str(info.value)


def test_threshold():
    assert check_threshold(None) == 0.2
    assert check_threshold("0.5") == 0.5
    for bad in (0, 1, "x", 1.5):
        with pytest.raises(ParameterError, match=r"threshold.*greater than 0"):
            check_threshold(bad)


def test_every_tool_upper_cases_the_symbol_and_checks_the_window():
    snaps = [
        snap(100 + i, [("100.00", "1"), ("99.99", "1")], [("100.01", "1"), ("100.02", "1")])
        for i in range(12)
    ]
    trades = [trade(101 + i, "100.01", "1", taker="buy") for i in range(10)]
    calls = [
        lambda sym, a, b: get_order_flow(snaps, trades, symbol=sym, window_start=a, window_end=b),
        lambda sym, a, b: get_microstructure_health(
            snaps, trades, symbol=sym, window_start=a, window_end=b
        ),
        lambda sym, a, b: detect_market_anomalies(
            snaps, trades, symbol=sym, window_start=a, window_end=b
        ),
        lambda sym, a, b: get_liquidity_vacuums(snaps, symbol=sym, start=a, end=b),
        lambda sym, a, b: get_volume_profile(
            rows_from_trades(trades), symbol=sym, start=a, end=b, tick_size=None, symbol_tick=None
        ),
    ]
    for call in calls:
        assert call("testusdt", 101, 112)["symbol"] == "TESTUSDT"
        with pytest.raises(ParameterError) as info:
            call("testusdt", 112, 101)
        assert info.value.param == "window"
        with pytest.raises(ParameterError) as info:
            call("bad symbol", 101, 112)
        assert info.value.param == "symbol"


def test_tools_validate_their_own_numeric_parameters():
    snaps = [snap(100 + i, [("100.00", "1")], [("100.01", "1")]) for i in range(12)]
    with pytest.raises(ParameterError, match="threshold"):
        get_liquidity_vacuums(snaps, symbol="X1", start=100, end=112, threshold=2)
    rows = rows_from_trades([trade(100, "1", "1", taker="buy") for _ in range(10)])
    with pytest.raises(ParameterError, match="tick_size"):
        get_volume_profile(rows, symbol="X1", start=0, end=1, tick_size=0, symbol_tick=None)


HOSTILE_NUMBERS = [
    "9" * 300_000,
    "1e999999999",
    "1E5",
    "1e-8",
    "0x10",
    " 60",
    "6_0",
    "١٢",
    "+60",
    "nan",
]


@pytest.mark.parametrize("text", HOSTILE_NUMBERS, ids=lambda t: repr(t[:12]))
@pytest.mark.parametrize(
    "check",
    [check_window, check_hours, check_levels, check_tick_size, check_threshold],
    ids=lambda f: f.__name__,
)
def test_numeric_strings_are_checked_before_any_conversion(check, text):
    # Issue 13: a huge digit string or an exponent must cost O(1) and a ParameterError, never a
    # Decimal/int/float conversion (int("9"*300000) alone raises ValueError in 3.11).
    with pytest.raises(ParameterError) as info:
        check(text)
    assert len(str(info.value)) < 300


def test_plain_short_numeric_strings_still_work():
    assert check_window("60") == 60
    assert check_window("60.0") == 60
    assert check_tick_size("0.01") == 1_000_000
    assert check_threshold("0.25") == 0.25
