from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.fixedpoint import MAX_INT64, format_fixed, parse_fixed


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("61837.63000000", 6_183_763_000_000),
        ("0.00000001", 1),
        ("0.00000000", 0),
        ("25.42618900", 2_542_618_900),
        ("92233720368.54775807", MAX_INT64),
        ("1", 100_000_000),
        ("1.5", 150_000_000),
    ],
)
def test_parse_fixed_is_exact(text: str, value: int) -> None:
    assert parse_fixed(text) == value


@pytest.mark.parametrize(
    "text", ["", "-1.0", "1e5", "1.000000001", "abc", "1.2.3", " 1.0", "92233720368.54775808"]
)
def test_parse_fixed_rejects_what_binance_never_sends(text: str) -> None:
    with pytest.raises(ValueError, match="number"):
        parse_fixed(text)


@given(st.integers(min_value=0, max_value=MAX_INT64))
def test_format_then_parse_round_trips(value: int) -> None:
    text = format_fixed(value)
    assert len(text.split(".")[1]) == 8
    assert parse_fixed(text) == value
