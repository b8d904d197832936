"""OrderBook against a naive dict model, on random level updates."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.book import OrderBook

prices = st.integers(min_value=1, max_value=60)
qtys = st.integers(min_value=0, max_value=3)
updates = st.lists(st.tuples(prices, qtys), max_size=30)


def naive_top(levels: dict[int, int], depth: int, reverse: bool):
    return tuple((p, levels[p]) for p in sorted(levels, reverse=reverse)[:depth])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(updates, updates), max_size=40), st.integers(min_value=1, max_value=10))
def test_book_matches_a_naive_model(batches, depth):
    book = OrderBook()
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    for bid_updates, ask_updates in batches:
        book.apply(bid_updates, ask_updates)
        for side, changes in ((bids, bid_updates), (asks, ask_updates)):
            for price, qty in changes:
                if qty:
                    side[price] = qty
                else:
                    side.pop(price, None)
        assert book.top(depth) == (naive_top(bids, depth, True), naive_top(asks, depth, False))
        assert book.best_bid() == (naive_top(bids, 1, True) or (None,))[0]
        assert book.best_ask() == (naive_top(asks, 1, False) or (None,))[0]
        crossed = bool(bids and asks) and max(bids) >= min(asks)
        assert book.crossed() == crossed
    assert book.levels() == (bids, asks)


def test_reset_skips_zero_quantities_and_replaces_everything():
    book = OrderBook()
    book.apply([(5, 1)], [(9, 1)])

    book.reset([(3, 2), (4, 0)], [(6, 1)])

    assert book.top(5) == (((3, 2),), ((6, 1),))
    assert book.depth() == (1, 1)


def test_heap_does_not_grow_without_bound_when_a_level_flips():
    book = OrderBook()
    for _ in range(10_000):
        book.apply([(5, 1)], [])
        book.apply([(5, 0)], [])

    assert len(book._bid_heap) < 1000  # the stale copies are rebuilt away
