"""OrderBook: one symbol's price levels as exact scaled ints; pure, no I/O."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from heapq import heapify, heappop, heappush

from shared.model import Level

FRONT = 256  # levels per side kept in exact order (more once a deeper view is asked for)
_NONE_BELOW = -(2**64)  # an edge below every key: the whole side is in the front


class _Side:
    """One side of the book: exact quantities, its best levels in order, the rest in a heap.

    A level's *key* is its price for bids and minus its price for asks, so the best level has
    the largest key on both sides. ``front`` is the sorted list of the keys of exactly the live
    levels with key >= ``edge`` (best last: the busy end of a list is its cheap end). ``back``
    is a heap of -key holding every live level below the edge, with lazy deletion: an entry
    whose price is gone, or whose key is >= edge (a copy of a level that is in the front now),
    is dropped when it is popped.
    """

    __slots__ = ("back", "edge", "front", "qty", "sign", "want")

    def __init__(self, sign: int, front: int) -> None:
        self.sign = sign
        self.want = front  # the front's size after a trim or a fill
        self.qty: dict[int, int] = {}
        self.front: list[int] = []
        self.back: list[int] = []
        self.edge = _NONE_BELOW

    def reset(self, qty: dict[int, int]) -> None:
        self.qty = qty
        keys = sorted(p * self.sign for p in qty)
        cut = max(0, len(keys) - self.want)
        self.front = keys[cut:]
        self.back = [-k for k in keys[:cut]]
        heapify(self.back)
        self.edge = keys[cut] if cut else _NONE_BELOW

    def settle(self) -> None:
        """Keep the front between 1 and 2 x ``want`` levels and the heap's dead entries bounded."""
        if len(self.front) > 2 * self.want:
            self.trim()
        elif not self.front and self.back:
            self.fill(self.want)
        if len(self.back) > 2 * len(self.qty) + 256:
            # Deleted levels pile up in the heap: rebuild it from the live levels below the edge.
            edge = self.edge
            self.back = [-k for k in map(self.sign.__mul__, self.qty) if k < edge]
            heapify(self.back)

    def trim(self) -> None:
        """Hand the front's worst levels to the heap, down to ``want`` levels."""
        front = self.front
        cut = len(front) - self.want
        back = self.back
        for key in front[:cut]:
            heappush(back, -key)
        del front[:cut]
        self.edge = front[0]

    def fill(self, size: int) -> None:
        """Move the best levels of the heap to the front until it holds ``size`` levels."""
        back = self.back
        qty = self.qty
        sign = self.sign
        edge = self.edge
        taken: list[int] = []  # best first, each below the previous edge
        need = size - len(self.front)
        while back and len(taken) < need:
            key = -heappop(back)
            if key < edge and key * sign in qty:
                taken.append(key)
                edge = key
        taken.reverse()
        self.front[:0] = taken
        self.edge = edge if back else _NONE_BELOW

    def last_of_top(self, depth: int) -> int | None:
        """The key of the ``depth``-th best level (of the worst, when fewer exist); None when
        the side is empty. The last key of ``top(depth)``, without building the levels."""
        self.want = max(self.want, depth)
        front = self.front
        if len(front) < depth and self.back:
            self.fill(self.want)
        if not front:
            return None
        return front[-depth] if len(front) >= depth else front[0]

    def top(self, depth: int) -> tuple[Level, ...]:
        if depth <= 0:
            return ()
        self.want = max(self.want, depth)
        if len(self.front) < depth and self.back:
            self.fill(self.want)
        keys = self.front[: -depth - 1 : -1]
        prices = keys if self.sign > 0 else [-k for k in keys]
        return tuple(zip(prices, map(self.qty.__getitem__, prices), strict=True))


class OrderBook:
    """Bids and asks keyed by price; quantities are absolute, and 0 deletes a level.

    Measured on the recordings: ~80% of level updates create or delete a level, mostly within
    the best few hundred, and the live view (the best 100 a side) is taken about as often as an
    event comes (up to 10/s each). A fully sorted side costs a bisect per update; a heap alone
    (cheap updates) costs a scan of the whole side per view (~0.5 ms for 100 levels). So each
    side keeps its best ``front`` levels sorted (the view is a slice, the best level its last
    item) and the rest in a lazy heap, which hands them back in order when the front runs short.
    """

    __slots__ = ("_asks", "_bids")

    def __init__(self, front: int = FRONT) -> None:
        if front < 1:
            raise ValueError(f"front must be at least 1, got {front}")
        self._bids = _Side(1, front)
        self._asks = _Side(-1, front)

    def reset(self, bids: Iterable[Level] = (), asks: Iterable[Level] = ()) -> None:
        """Replace the whole book (from a REST snapshot); zero quantities are skipped."""
        self._bids.reset({p: q for p, q in bids if q})
        self._asks.reset({p: q for p, q in asks if q})

    def apply(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Set each level's absolute quantity; 0 deletes it (an absent level: no-op)."""
        # The two loops are one loop written twice (bids: key = price; asks: key = -price, so
        # "key >= edge" reads "price <= -edge"), because they run ~40 times per event.
        side = self._bids
        qty_of = side.qty
        pop = qty_of.pop
        front = side.front
        back = side.back
        edge = side.edge
        for price, qty in bids:
            if qty:
                if price not in qty_of:
                    if price >= edge:
                        insort(front, price)
                    else:
                        heappush(back, -price)
                qty_of[price] = qty
            elif pop(price, None) is not None and price >= edge:
                del front[bisect_left(front, price)]
        side.settle()
        side = self._asks
        qty_of = side.qty
        pop = qty_of.pop
        front = side.front
        back = side.back
        limit = -side.edge
        for price, qty in asks:
            if qty:
                if price not in qty_of:
                    if price <= limit:
                        insort(front, -price)
                    else:
                        heappush(back, price)
                qty_of[price] = qty
            elif pop(price, None) is not None and price <= limit:
                del front[bisect_left(front, -price)]
        side.settle()

    def best_bid(self) -> Level | None:
        front = self._bids.front
        return (front[-1], self._bids.qty[front[-1]]) if front else None

    def best_ask(self) -> Level | None:
        front = self._asks.front
        return (-front[-1], self._asks.qty[-front[-1]]) if front else None

    def crossed(self) -> bool:
        """True when the best bid is at or above the best ask: such a book cannot be real."""
        bids = self._bids.front
        asks = self._asks.front
        return bool(bids) and bool(asks) and bids[-1] >= -asks[-1]

    def top(self, depth: int) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        """The best ``depth`` bids (highest first) and asks (lowest first)."""
        return self._bids.top(depth), self._asks.top(depth)

    def last_of_top(self, depth: int) -> tuple[int | None, int | None]:
        """The prices of the last bid and the last ask of ``top(depth)`` (None for a side with
        no level), at the cost of a lookup: the resync checks them on every event, with a
        ``depth`` of up to ~500 (collector/resync.py)."""
        if depth <= 0:
            return None, None
        bid = self._bids.last_of_top(depth)
        ask = self._asks.last_of_top(depth)
        return bid, None if ask is None else -ask

    def depth(self) -> tuple[int, int]:
        """(number of bid levels, number of ask levels)."""
        return len(self._bids.qty), len(self._asks.qty)

    def levels(self) -> tuple[dict[int, int], dict[int, int]]:
        """Copies of all bids and asks, for tests and checks."""
        return dict(self._bids.qty), dict(self._asks.qty)
