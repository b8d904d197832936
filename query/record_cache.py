"""RecordCache: decoded records kept between requests, reused only while their stored bytes match.

The windowed tools (order flow, health, anomalies) read the same seconds again and again: an agent
polling health every few seconds re-reads the same ten-minute baseline each time, and decoding
those ~660 snapshots costs several times more than the analysis itself. An entry is found by
where the record is stored (family, symbol, second) and used only if the stored bytes are still
exactly the same (a memcmp of a few hundred bytes), so a rewritten record (backfill, a collector
restart) is decoded afresh and never answers stale. Least-recently-used entries are evicted
beyond ``max_weight`` (the caller's weight: book levels, trades or bytes).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class RecordCache(Generic[T]):
    """Origin -> (stored bytes, decoded record, weight), least recently used first."""

    def __init__(
        self, decode: Callable[[bytes], T], weigh: Callable[[bytes, T], int], max_weight: int
    ) -> None:
        self._decode = decode
        self._weigh = weigh
        self.max_weight = max_weight
        self._entries: OrderedDict[Hashable, tuple[bytes, T, int]] = OrderedDict()
        self.weight = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, origin: Hashable, value: bytes) -> T:
        """``value`` (stored at ``origin``) decoded, from the cache when the bytes are the same."""
        entries = self._entries
        found = entries.get(origin)
        if found is not None:
            if found[0] == value:
                entries.move_to_end(origin)
                self.hits += 1
                return found[1]
            del entries[origin]  # rewritten since: decode the new bytes
            self.weight -= found[2]
        self.misses += 1
        record = self._decode(value)  # DecodeError propagates; nothing is cached then
        weight = self._weigh(value, record) + 1
        if weight <= self.max_weight:
            entries[origin] = (value, record, weight)
            self.weight += weight
            while self.weight > self.max_weight:
                _, (_, _, dropped) = entries.popitem(last=False)
                self.weight -= dropped
        return record

    def clear(self) -> None:
        self._entries.clear()
        self.weight = 0
