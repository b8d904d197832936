"""AggregateCache: decoded volume aggregates kept between requests, checked by their stored bytes.

Even packed, a day of hour aggregates is megabytes to unpack and check, while the hours of the past
rarely change (and older writers' map aggregates cost ~50-90 ms a day to decode). It is a
``RecordCache`` of ``merge.Chunk`` weighed in bytes (the stored value plus its arrays):
an entry is used only while the stored bytes are exactly the same, so a changed aggregate (late
trades, backfill) is decoded afresh, never a stale answer.
"""

from __future__ import annotations

from collections.abc import Hashable

from query.analytics.profile.merge import Chunk, chunk_of_stored
from query.record_cache import RecordCache

DEFAULT_MAX_BYTES = 256 * 1024 * 1024  # ~8 symbol-days of drifting BTCUSDT-rate aggregates


def _size(value: bytes, chunk: Chunk) -> int:
    return len(value) + sum(array.nbytes for array in chunk[:6])


class AggregateCache(RecordCache[Chunk]):
    """Where an aggregate is stored -> its arrays; ``max_bytes`` bounds what it holds."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        super().__init__(chunk_of_stored, _size, max_bytes)

    @property
    def size(self) -> int:
        return self.weight

    def chunk(self, value: bytes, origin: Hashable) -> Chunk:
        """The arrays of ``value`` stored at ``origin`` (DecodeError if not an aggregate)."""
        return self.get(origin, value)
