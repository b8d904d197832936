"""AggregateCache: decoded volume aggregates kept between requests, checked by their stored bytes.

Unpacking a day of hour aggregates (~12 MB of msgpack for ~10^5 prices per hour) costs ~50-90 ms
of the 24-hour volume profile, while the hours of the past rarely change. An entry is found by
where the value was stored (family, symbol, period) and used only if the stored bytes are still
exactly the same (a memcmp, much cheaper than hashing them), so a changed aggregate (late
trades, backfill) is decoded afresh, never a stale answer. Least-recently-used entries are
evicted beyond ``max_bytes``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from query.analytics.profile_merge import Chunk, chunk_of
from shared.volume import Volume

DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # ~8 symbol-days of drifting BTCUSDT-rate aggregates


class AggregateCache:
    """Where an aggregate is stored -> (its value, its arrays ``profile_merge.Chunk``)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[bytes, Chunk, int]] = OrderedDict()
        self.size = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def chunk(self, value: bytes, origin: Hashable) -> Chunk:
        """The arrays of ``value`` stored at ``origin`` (DecodeError if not an aggregate)."""
        found = self._entries.get(origin)
        if found is not None:
            if found[0] == value:
                self._entries.move_to_end(origin)
                self.hits += 1
                return found[1]
            del self._entries[origin]  # rewritten since: decode the new bytes
            self.size -= found[2]
        self.misses += 1
        chunk = chunk_of(Volume.decode(value))
        size = len(value) + sum(array.nbytes for array in chunk[:6])
        if size <= self.max_bytes:
            self._entries[origin] = (value, chunk, size)
            self.size += size
            while self.size > self.max_bytes:
                _, (_, _, dropped) = self._entries.popitem(last=False)
                self.size -= dropped
        return chunk
