"""get_order_flow == its reference on random markets."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from query.analytics import get_order_flow
from tests.reference.compare import agree
from tests.reference.flow import order_flow
from tests.reference.markets import START, Shape, market, shapes


def check_flow(snaps, trades, start: int, end: int, symbol: str = "TESTUSDT") -> bool:
    return agree(
        lambda: get_order_flow(snaps, trades, symbol=symbol, window_start=start, window_end=end),
        lambda: order_flow(snaps, trades, start, end),
    )


@settings(max_examples=150, deadline=None)
@given(shapes())
def test_order_flow_equals_the_reference(shape: Shape):
    snaps, trades = market(shape)
    check_flow(snaps, trades, START, START + shape.seconds)


@settings(max_examples=3, deadline=None, database=None)
@given(shapes(st.just(5000)))
def test_order_flow_equals_the_reference_on_5000_levels(shape: Shape):
    snaps, trades = market(shape)
    check_flow(snaps, trades, START, START + shape.seconds)
