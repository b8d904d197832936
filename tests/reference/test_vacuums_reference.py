"""get_liquidity_vacuums == its reference on random books (holes included)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from query.analytics import get_liquidity_vacuums
from tests.reference.compare import agree
from tests.reference.markets import START, Shape, market, shapes
from tests.reference.vacuums import vacuums


def check_vacuums(snaps, start: int, end: int, threshold: float, symbol: str = "TESTUSDT") -> bool:
    return agree(
        lambda: get_liquidity_vacuums(
            snaps, symbol=symbol, start=start, end=end, threshold=threshold
        ),
        lambda: vacuums(snaps, start, end, Decimal(repr(threshold))),
    )


@settings(max_examples=80, deadline=None)
@given(
    shapes(st.sampled_from([3, 20, 50, 400]), seconds=st.integers(10, 30)),
    st.sampled_from([0.2, 0.5, 0.9]),
)
def test_vacuums_equal_the_reference(shape: Shape, threshold: float):
    snaps, _ = market(shape)
    check_vacuums(snaps, START, START + shape.seconds, threshold)
