"""Records waiting to be written: a bounded, de-duplicating FIFO that survives a full disk."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain, islice

import numpy as np
from msgspec.structs import astuple

from shared.model import Trade

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Record:
    """One validated symbol-second: the two values to store, as they arrived.

    Not frozen (read-only by convention): a frozen dataclass sets each field through
    ``object.__setattr__``, measured ~2 µs a record at ingest rates.
    """

    symbol: str
    second: int
    snapshot: bytes  # the book frame (a BookSnapshot) → CF "snapshots"
    trades: bytes  # the trades frame (a SecondTrades) → CF "trades" (even with no trade)
    session: int
    seq: int
    backfilled: bool = False
    received: float = 0.0  # monotonic arrival time, for the durability deadline
    # The trades, for the volume aggregates: one int64 row [agg_id, price, qty, T, m] each.
    trade_fields: np.ndarray = field(default_factory=lambda: trade_fields(()))


def trade_fields(trades: Sequence[Trade]) -> np.ndarray:
    """Trades as an (n, 5) int64 matrix: agg_id, price, qty, ts_trade, buyer_maker (0/1)."""
    count = 5 * len(trades)
    flat = np.fromiter(chain.from_iterable(map(astuple, trades)), dtype=np.int64, count=count)
    return flat.reshape(len(trades), 5)


class PendingQueue:
    """Oldest-first queue of Records keyed by (symbol, second), bounded in records.

    While the database is unavailable the queue fills; once full, the oldest record is dropped
    (and reported) so the newest data keeps flowing: the dropped seconds can still come back
    from the collectors' backfill buffers, the newest ones could not.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._items: OrderedDict[tuple[str, int], Record] = OrderedDict()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def add(self, record: Record) -> Record | None:
        """Queue a record (replacing one for the same second); return the record dropped if full."""
        key = (record.symbol, record.second)
        if key in self._items:
            # The same second again (live + backfill): keep the place, take the newer bytes.
            self._items[key] = record
            return None
        dropped: Record | None = None
        if len(self._items) >= self.capacity:
            _, dropped = self._items.popitem(last=False)
            self.dropped += 1
        self._items[key] = record
        return dropped

    def get(self, symbol: str, second: int) -> Record | None:
        """The queued record of that symbol-second, if any."""
        return self._items.get((symbol, second))

    def peek(self, limit: int) -> list[Record]:
        """The oldest ``limit`` records, left in the queue until ``remove`` confirms the write."""
        return list(islice(self._items.values(), limit))

    def remove(self, records: list[Record]) -> None:
        """Forget records that were written (a replaced newer copy stays queued)."""
        for record in records:
            key = (record.symbol, record.second)
            if self._items.get(key) is record:
                del self._items[key]

    def oldest_arrival(self) -> float | None:
        """Monotonic arrival time of the oldest queued record, or None when empty."""
        for record in self._items.values():
            return record.received
        return None
