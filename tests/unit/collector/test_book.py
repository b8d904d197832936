"""OrderBook against a naive dict model, on random level updates."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.book import OrderBook

prices = st.integers(min_value=1, max_value=60)
qtys = st.integers(min_value=0, max_value=3)
updates = st.lists(st.tuples(prices, qtys), max_size=30)


def naive_top(levels: dict[int, int], depth: int, reverse: bool):
    return tuple((p, levels[p]) for p in sorted(levels, reverse=reverse)[:depth])


def naive_last(levels: dict[int, int], depth: int, reverse: bool):
    best = sorted(levels, reverse=reverse)[:depth]
    return best[-1] if best else None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(updates, updates), max_size=40),
    st.integers(min_value=1, max_value=10),
    st.sampled_from([1, 2, 3, 8, 256]),
    st.lists(st.tuples(prices, st.integers(min_value=1, max_value=3)), max_size=40),
)
def test_book_matches_a_naive_model(batches, depth, front, snapshot):
    # A small front makes every path run: trims, fills from the heap, heap rebuilds.
    book = OrderBook(front=front)
    bids = {p: q for p, q in snapshot if p <= 30}
    asks = {p: q for p, q in snapshot if p > 30}
    book.reset(bids.items(), asks.items())
    for bid_updates, ask_updates in batches:
        book.apply(bid_updates, ask_updates)
        for side, changes in ((bids, bid_updates), (asks, ask_updates)):
            for price, qty in changes:
                if qty:
                    side[price] = qty
                else:
                    side.pop(price, None)
        assert book.best_bid() == (naive_top(bids, 1, True) or (None,))[0]
        assert book.best_ask() == (naive_top(asks, 1, False) or (None,))[0]
        crossed = bool(bids and asks) and max(bids) >= min(asks)
        assert book.crossed() == crossed
        # Asked before top(): the cheap look must fill the front from the heap by itself.
        assert book.last_of_top(depth) == (
            naive_last(bids, depth, True),
            naive_last(asks, depth, False),
        )
        assert book.top(depth) == (naive_top(bids, depth, True), naive_top(asks, depth, False))
    assert book.levels() == (bids, asks)
    assert book.depth() == (len(bids), len(asks))
    assert book.top(100) == (naive_top(bids, 100, True), naive_top(asks, 100, False))


def test_reset_skips_zero_quantities_and_replaces_everything():
    book = OrderBook()
    book.apply([(5, 1)], [(9, 1)])

    book.reset([(3, 2), (4, 0)], [(6, 1)])

    assert book.top(5) == (((3, 2),), ((6, 1),))
    assert book.depth() == (1, 1)


def test_heap_does_not_grow_without_bound_when_deep_levels_flip():
    book = OrderBook(front=4)
    book.reset([(p, 1) for p in range(100, 200)], [(p, 1) for p in range(300, 400)])
    for _ in range(10_000):
        book.apply([(5, 1)], [(900, 1)])  # far below the front: into the heap
        book.apply([(5, 0)], [(900, 0)])  # deleted lazily: a dead heap entry

    assert len(book._bids.back) < 2 * 100 + 256 + 2  # the dead entries are rebuilt away
    assert len(book._asks.back) < 2 * 100 + 256 + 2
    assert book.top(3) == (((199, 1), (198, 1), (197, 1)), ((300, 1), (301, 1), (302, 1)))


def test_top_deeper_than_the_front_is_exact_and_best_first():
    book = OrderBook(front=2)
    book.reset([(p, p) for p in range(1, 51)], [(p, p) for p in range(51, 101)])

    bids, asks = book.top(30)

    assert bids == tuple((p, p) for p in range(50, 20, -1))
    assert asks == tuple((p, p) for p in range(51, 81))
    assert book.top(0) == ((), ())


def test_emptied_front_is_refilled_from_the_heap():
    book = OrderBook(front=2)
    book.reset([(p, 1) for p in range(1, 11)], [(p, 1) for p in range(11, 21)])

    book.apply([(10, 0), (9, 0), (8, 0)], [(11, 0), (12, 0), (13, 0)])

    assert book.best_bid() == (7, 1)
    assert book.best_ask() == (14, 1)
    assert not book.crossed()


def test_front_must_be_positive():
    with pytest.raises(ValueError, match="front"):
        OrderBook(front=0)
