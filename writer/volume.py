"""The per-minute and per-hour volume aggregates, kept exact in the batch that stores the trades.

Invariant (what the query process relies on): whenever a key exists in ``volume`` (minute) or
``volume_hours`` (hour), its rows are exactly the sum of the trades stored for that period.

- A minute gets its key once the symbol's stream is ``MINUTE_GRACE`` seconds past the minute's
  end, written once from the rows kept in memory while it was open (readers take an open minute
  from its raw trades); after that, every batch that touches it rewrites it. (Writing the open
  minute with every batch re-encoded the whole minute per batch: ~11 µs of the writer's ~47 µs
  per record.) A minute's rows come from a small cache, else its stored aggregate, else its
  stored trades (≤ 60 reads: after a restart, a retention cut or for data written before
  aggregates existed).
- A second stored again (live + backfill, restarts) replaces its old contribution: the delta is
  new rows minus the rows of the trades already stored for that second (read only when the second
  is not newer than the symbol's newest stored second), so nothing is counted twice.
- An hour gets its key once the symbol's stream is ``HOUR_GRACE`` seconds past the hour (summed
  from its 60 minutes); later changes (backfill) are applied to it as deltas. The open hour has no
  key: readers use its minutes.
- A failed write or a retention run drops all cached state; it is rebuilt from disk.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence

import numpy as np
from rocksdict import ColumnFamily, Rdict, WriteBatch

from shared import storage
from shared.codec import decode_trades, record_key
from shared.errors import DecodeError
from shared.volume import HOUR, MINUTE, Volume, trade_columns
from writer.pending import Record

log = logging.getLogger(__name__)


def _columns(fields: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(prices, qtys, buyer_maker) of a Record's ``trade_fields``."""
    return fields[:, 1], fields[:, 2], fields[:, 4]


def _put(batch: WriteBatch, key: Key, rows: Volume, handle: ColumnFamily) -> None:
    """Put a period's aggregate; if no stored value can hold its sums, take its key away
    (readers then sum the period's raw trades: a key, when there is one, is exact)."""
    value = rows.encode()
    if value is None:
        log.warning(
            "Volume of %s in the period from %d is beyond what an aggregate holds; "
            "it is read from its trades",
            *key,
        )
        batch.delete(record_key(*key), handle)
    else:
        batch.put(record_key(*key), value, handle)


HOUR_GRACE = 120  # seconds past an hour's end before its aggregate is written
MINUTE_GRACE = 5  # seconds past a minute's end before its aggregate is written (late trades)
MINUTE_CACHE = 2048  # minutes kept in memory at most (the open and the previous minute a symbol)

Key = tuple[str, int]


class VolumeAggregates:
    """Adds the aggregate puts of a batch of records to that batch (reads the store as needed)."""

    def __init__(
        self,
        families: Mapping[str, Rdict],
        handles: Mapping[str, ColumnFamily],
        capacity: int = MINUTE_CACHE,
    ) -> None:
        self._trades = families[storage.TRADES_CF]
        self._minutes_cf = families[storage.VOLUME_CF]
        self._hours_cf = families[storage.VOLUME_HOURS_CF]
        self._minute_handle = handles[storage.VOLUME_CF]
        self._hour_handle = handles[storage.VOLUME_HOURS_CF]
        self.capacity = capacity
        self._minutes: OrderedDict[Key, Volume] = OrderedDict()  # committed + this batch's changes
        self._last: dict[str, int | None] = {}  # newest stored second per symbol (committed)
        self._closed: set[Key] = set()  # hours known to have a key
        self._checked: set[str] = set()  # symbols whose hours before a restart were checked
        self._open: dict[str, set[int]] = {}  # hours touched but not closed yet, per symbol
        self._pending_last: dict[str, int] = {}
        self._pending_closed: set[Key] = set()
        self._keyed: set[Key] = set()  # minutes known to have a key (committed)
        self._pending_keyed: set[Key] = set()

    def add_to_batch(self, records: Sequence[Record], batch: WriteBatch) -> None:
        """Put the new aggregates of every minute (and closed hour) the records touch."""
        # The same second twice in one batch: RocksDB keeps the last put, so must the aggregate.
        unique = {(record.symbol, record.second): record for record in records}
        by_minute: dict[Key, list[Record]] = {}
        for (symbol, second), record in unique.items():
            key = (symbol, second - second % MINUTE)
            group = by_minute.get(key)
            if group is None:
                by_minute[key] = [record]
            else:
                group.append(record)
        touched: dict[Key, Volume] = {}
        hour_changes: dict[Key, list[Volume]] = {}
        latest: dict[str, int] = {}
        for key, group in by_minute.items():
            symbol, minute = key
            rows = touched[key] = self._minute(key, cache=True)
            changes = hour_changes.setdefault((symbol, minute - minute % HOUR), [])
            top = max(record.second for record in group)
            if top > latest.get(symbol, -1):
                latest[symbol] = top
            last = self._last_stored(symbol)
            fresh = group
            if last is not None and minute <= last:
                fresh = []
                for record in group:
                    if record.second <= last:
                        # Possibly stored before: replace its old contribution, do not add to it.
                        change = Volume.of_columns(*_columns(record.trade_fields))
                        change.add(self._stored_volume(symbol, record.second), -1, prune=False)
                        rows.add(change)
                        changes.append(change)
                    else:
                        fresh.append(record)
            if fresh:  # the common case: new seconds, added to their minute at once
                new = Volume.of_columns(
                    *_columns(np.concatenate([record.trade_fields for record in fresh]))
                )
                rows.add(new)
                changes.append(new)
        tops: dict[str, int] = {}
        for symbol, second in latest.items():
            last = self._last_stored(symbol)
            tops[symbol] = top = second if last is None else max(last, second)
            if symbol not in self._checked and last is not None:
                # Minutes of the run before a restart may have ended before they were written.
                for minute in (last - last % MINUTE, last - last % MINUTE - MINUTE):
                    self._minute((symbol, minute), cache=True)
        for key, rows in touched.items():
            if self._keyed_or_closed(key, tops):
                self._put_minute(key, rows, batch)
        for key in [k for k in self._minutes if k[0] in tops and k not in touched]:
            if self._keyed_or_closed(key, tops) and not self._is_keyed(key):
                self._put_minute(key, self._minutes[key], batch)  # it just closed
        for symbol, top in tops.items():
            last = self._last_stored(symbol)
            self._pending_last[symbol] = top
            candidates = {top - top % HOUR - HOUR, *self._open.get(symbol, ())}
            if symbol not in self._checked and last is not None:
                # Hours of the run before a restart may have ended before they were closed.
                candidates |= {last - last % HOUR, last - last % HOUR - HOUR}
            for hour in candidates:
                hour_changes.setdefault((symbol, hour), [])
        for (symbol, hour), deltas in hour_changes.items():
            self._update_hour(symbol, hour, deltas, touched, batch)

    def _is_keyed(self, key: Key) -> bool:
        return key in self._keyed or key in self._pending_keyed

    def _keyed_or_closed(self, key: Key, tops: Mapping[str, int]) -> bool:
        """Whether a minute's key is to be written: it has one, or the minute is over."""
        return self._is_keyed(key) or key[1] + MINUTE + MINUTE_GRACE <= tops.get(key[0], -1)

    def _put_minute(self, key: Key, rows: Volume, batch: WriteBatch) -> None:
        _put(batch, key, rows, self._minute_handle)
        self._pending_keyed.add(key)

    def _update_hour(
        self,
        symbol: str,
        hour: int,
        deltas: list[Volume],
        touched: dict[Key, Volume],
        batch: WriteBatch,
    ) -> None:
        key = (symbol, hour)
        if not deltas and key in self._closed:
            return
        stored = self._hours_cf.get(record_key(symbol, hour))
        if stored is not None:
            self._closed.add(key)
            self._open.get(symbol, set()).discard(hour)
            if deltas:
                rows = Volume.decode(stored)
                for delta in deltas:
                    rows.add(delta)
                _put(batch, key, rows, self._hour_handle)
            return
        if hour + HOUR + HOUR_GRACE > self._pending_last.get(symbol, 0):
            if deltas:
                self._open.setdefault(symbol, set()).add(hour)
            return  # still open: readers use its minutes
        rows = Volume()
        for minute in range(hour, hour + HOUR, MINUTE):
            part = touched.get((symbol, minute))
            rows.add(part if part is not None else self._minute((symbol, minute)))
        _put(batch, key, rows, self._hour_handle)
        self._pending_closed.add(key)
        self._open.get(symbol, set()).discard(hour)

    def committed(self) -> None:
        """The batch is durable: its state becomes the committed state."""
        self._last.update(self._pending_last)
        self._checked.update(self._pending_last)
        self._closed |= self._pending_closed
        self._pending_last.clear()
        self._pending_closed.clear()
        self._keyed |= self._pending_keyed
        self._pending_keyed.clear()
        minutes = self._minutes
        last = self._last
        # A minute that ended a minute before its symbol's newest stored second is only touched
        # again by backfill, which reads its stored aggregate back: keep the open minute and the
        # one before it, not a closed minute per symbol until the LRU bound (2,048 of them held
        # ~20 KB each and grew the writer by tens of MB over the first hour).
        for key in [
            k for k in minutes if (top := last.get(k[0])) is not None and k[1] + 2 * MINUTE <= top
        ]:
            del minutes[key]
        # (Past the bound an open minute may go too: _minute rebuilds it from its stored trades,
        # and a minute never written is read raw by the query process: slower, still exact.)
        while len(minutes) > self.capacity:
            minutes.popitem(last=False)
        self._keyed = {
            k for k in self._keyed if (t := last.get(k[0])) is None or k[1] + 2 * MINUTE > t
        }

    def reset(self) -> None:
        """Forget every cached aggregate (after a failed write or a retention run)."""
        self._minutes.clear()
        self._last.clear()
        self._closed.clear()
        self._checked.clear()
        self._open.clear()
        self._pending_last.clear()
        self._pending_closed.clear()
        self._keyed.clear()
        self._pending_keyed.clear()

    # --- reads ----------------------------------------------------------------------------------

    def _last_stored(self, symbol: str) -> int | None:
        if symbol not in self._last:
            self._last[symbol] = storage.last_second(self._trades, symbol)
        return self._last[symbol]

    def _minute(self, key: Key, cache: bool = False) -> Volume:
        """A minute's rows: from the cache, its stored aggregate, or its stored trades (none to
        read for a minute after the symbol's newest stored second: a new minute)."""
        rows = self._minutes.get(key)
        if rows is not None:
            if cache:
                self._minutes.move_to_end(key)
            return rows
        symbol, minute = key
        last = self._last_stored(symbol)
        if last is None or minute > last:
            stored = None  # every stored second is before it: nothing to read
        else:
            stored = self._minutes_cf.get(record_key(symbol, minute))
        if stored is not None:
            rows = Volume.decode(stored)
            self._keyed.add(key)
        else:
            rows = Volume()
            if last is not None and minute <= last:
                for second, value in storage.iter_range(self._trades, symbol, minute, minute + 59):
                    self._add_stored(rows, symbol, second, value)
        if cache:
            self._minutes[key] = rows
        return rows

    def _stored_volume(self, symbol: str, second: int) -> Volume:
        volume = Volume()
        value = self._trades.get(record_key(symbol, second))
        if value is not None:
            self._add_stored(volume, symbol, second, value)
        return volume

    @staticmethod
    def _add_stored(volume: Volume, symbol: str, second: int, value: bytes) -> None:
        try:
            trades = decode_trades(value).trades
        except DecodeError as exc:
            # Only possible for a value not written by this writer; it is left out alike of the
            # aggregate and (as an error) of every raw read.
            log.error("Stored trades of %s at %d are unreadable: %s", symbol, second, exc)
            return
        volume.add_trades(*trade_columns(trades))
