"""OrderBook: one symbol's price levels as exact scaled ints; pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from heapq import heapify, heappop, heappush, nlargest, nsmallest

from shared.model import Level


class OrderBook:
    """Bids and asks keyed by price; quantities are absolute, and 0 deletes a level.

    Measured on the recordings, ~80% of level updates create or delete a level, so a sorted
    structure that is kept exactly in order costs more than everything else together. Instead a
    dict per side holds the quantities and a heap per side holds the prices, with lazy deletion:
    a deleted price stays in the heap until it reaches the top, where ``best_*`` discards it.
    The per-event crossed check needs only the two tops; the best N levels for a record are
    sorted from the dict on demand (a few times a second).
    """

    __slots__ = ("_ask_heap", "_asks", "_bid_heap", "_bids")

    def __init__(self) -> None:
        self._bids: dict[int, int] = {}
        self._asks: dict[int, int] = {}
        self._bid_heap: list[int] = []  # negated prices: heapq is a min-heap
        self._ask_heap: list[int] = []

    def reset(self, bids: Iterable[Level] = (), asks: Iterable[Level] = ()) -> None:
        """Replace the whole book (from a REST snapshot); zero quantities are skipped."""
        self._bids = {p: q for p, q in bids if q}
        self._asks = {p: q for p, q in asks if q}
        self._rebuild()

    def apply(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Set each level's absolute quantity; 0 deletes it (an absent level: no-op)."""
        book = self._bids
        heap = self._bid_heap
        for price, qty in bids:
            if qty:
                if price not in book:
                    heappush(heap, -price)
                book[price] = qty
            else:
                book.pop(price, None)
        book = self._asks
        heap = self._ask_heap
        for price, qty in asks:
            if qty:
                if price not in book:
                    heappush(heap, price)
                book[price] = qty
            else:
                book.pop(price, None)
        # A price deleted and re-added is pushed again; rebuild before the stale copies pile up.
        heaped = len(self._bid_heap) + len(self._ask_heap)
        if heaped > 2 * (len(self._bids) + len(self._asks)) + 256:
            self._rebuild()

    def best_bid(self) -> Level | None:
        heap = self._bid_heap
        bids = self._bids
        while heap:
            price = -heap[0]
            qty = bids.get(price)
            if qty is not None:
                return price, qty
            heappop(heap)
        return None

    def best_ask(self) -> Level | None:
        heap = self._ask_heap
        asks = self._asks
        while heap:
            price = heap[0]
            qty = asks.get(price)
            if qty is not None:
                return price, qty
            heappop(heap)
        return None

    def crossed(self) -> bool:
        """True when the best bid is at or above the best ask: such a book cannot be real."""
        bid = self.best_bid()
        ask = self.best_ask()
        return bid is not None and ask is not None and bid[0] >= ask[0]

    def top(self, depth: int) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        """The best ``depth`` bids (highest first) and asks (lowest first)."""
        bids = self._bids
        asks = self._asks
        return (
            tuple((p, bids[p]) for p in nlargest(depth, bids)),
            tuple((p, asks[p]) for p in nsmallest(depth, asks)),
        )

    def depth(self) -> tuple[int, int]:
        """(number of bid levels, number of ask levels)."""
        return len(self._bids), len(self._asks)

    def levels(self) -> tuple[dict[int, int], dict[int, int]]:
        """Copies of all bids and asks, for tests and checks."""
        return dict(self._bids), dict(self._asks)

    def _rebuild(self) -> None:
        self._bid_heap = [-p for p in self._bids]
        self._ask_heap = list(self._asks)
        heapify(self._bid_heap)
        heapify(self._ask_heap)
