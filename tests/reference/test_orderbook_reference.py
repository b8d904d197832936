"""orderbook_l1 / orderbook_l2 == their reference on random live books."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from query.analytics import orderbook_l1, orderbook_l2
from tests.reference.compare import agree
from tests.reference.markets import Shape, live_book, shapes
from tests.reference.orderbook import l1, l2

NOW = 1_000_700


@settings(max_examples=200, deadline=None)
@given(shapes(st.sampled_from([1, 2, 5, 20, 100])), st.integers(1, 100))
def test_l1_and_l2_equal_the_reference(shape: Shape, levels: int):
    book = live_book(shape)
    agree(lambda: orderbook_l1(book, now_ms=NOW), lambda: l1(book, NOW))
    agree(lambda: orderbook_l2(book, levels=levels, now_ms=NOW), lambda: l2(book, levels, NOW))


@settings(max_examples=3, deadline=None, database=None)
@given(shapes(st.just(5000)))
def test_l1_equals_the_reference_on_5000_levels(shape: Shape):
    book = live_book(shape)
    agree(lambda: orderbook_l1(book, now_ms=NOW), lambda: l1(book, NOW))
