"""SnapshotStore: the only code that opens the database for writing.

Writes are WriteBatches synced to the WAL, so a record is durable when ``write`` returns. Any
failed write (a full disk, an I/O error) leaves RocksDB in a sticky error state, so the store
then drops its handle entirely; the service reopens it later with ``open()`` (see FACTS.md).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from rocksdict import ColumnFamily, Rdict, WriteBatch, WriteOptions

from shared import storage
from shared.codec import decode_book, record_key
from shared.errors import DecodeError, StoreUnavailable
from writer.pending import Record
from writer.volume import VolumeAggregates

log = logging.getLogger(__name__)


class SnapshotStore:
    """Synced batch writes, range deletes and the few seeks the writer needs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: Rdict | None = None
        self._families: dict[str, Rdict] = {}
        self._handles: dict[str, ColumnFamily] = {}
        self._symbols: set[str] = set()
        self._synced = WriteOptions()
        self._synced.sync = True
        self._unsynced = WriteOptions()
        self.volume: VolumeAggregates | None = None

    @property
    def is_open(self) -> bool:
        return self._db is not None

    def open(self) -> None:
        """Open (or create) the database; StoreUnavailable with the cause if it cannot be."""
        try:
            db = storage.open_primary(self.path)
        except Exception as exc:  # rocksdict raises plain Exception with RocksDB's message
            gc.collect()  # let a half-built handle release the LOCK file before the retry
            raise StoreUnavailable(f"cannot open {self.path}: {exc}") from exc
        self._db = db
        for name in storage.COLUMN_FAMILIES:
            self._families[name] = db.get_column_family(name)
            self._handles[name] = db.get_column_family_handle(name)
        self._symbols = set(storage.known_symbols(self._families[storage.META_CF]))
        self.volume = VolumeAggregates(self._families, self._handles)

    def write(self, records: Sequence[Record]) -> None:
        """Store records (and their volume aggregates) in one WAL-synced batch.

        StoreUnavailable (handle dropped) on failure.
        """
        db = self._require()
        batch = WriteBatch(raw_mode=True)
        put = batch.put
        snapshots, trades = self._handles[storage.SNAPSHOTS_CF], self._handles[storage.TRADES_CF]
        symbols = self._symbols
        new_symbols: set[str] = set()
        for record in records:
            key = record_key(record.symbol, record.second)
            put(key, record.snapshot, snapshots)
            put(key, record.trades, trades)
            if record.symbol not in symbols:
                new_symbols.add(record.symbol)
        for symbol in new_symbols:
            put(storage.symbol_meta_key(symbol), b"", self._handles[storage.META_CF])
        volume = self.volume
        try:
            if volume is not None:
                volume.add_to_batch(records, batch)
            db.write(batch, self._synced)
        except Exception as exc:
            self.discard()
            raise StoreUnavailable(f"write failed: {exc}") from exc
        if volume is not None:
            volume.committed()
        self._symbols |= new_symbols

    def put_meta(self, key: bytes, value: bytes) -> None:
        """Write a small ``meta`` entry (the status record); not synced, it is rewritten often."""
        self._require()
        try:
            self._families[storage.META_CF].put(key, value, self._unsynced)
        except Exception as exc:
            self.discard()
            raise StoreUnavailable(f"meta write failed: {exc}") from exc

    def last_second(self, symbol: str) -> int | None:
        """The newest stored second of ``symbol`` (one seek)."""
        self._require()
        return storage.last_second(self._families[storage.SNAPSHOTS_CF], symbol)

    def seconds(self, symbol: str, first: int, last: int) -> list[int]:
        """The stored seconds of ``symbol`` within ``first..last`` (one bounded range read)."""
        self._require()
        family = self._families[storage.SNAPSHOTS_CF]
        return [second for second, _ in storage.iter_range(family, symbol, first, last)]

    def stored_session(self, symbol: str, second: int) -> int | None:
        """The collector session of the stored book of ``symbol`` at ``second``, if any."""
        self._require()
        value = self._families[storage.SNAPSHOTS_CF].get(record_key(symbol, second))
        if value is None:
            return None
        try:
            return decode_book(value, check=False).session
        except DecodeError:
            return None  # not written by this writer: nothing to protect

    def int_property(self, name: str) -> int:
        """An integer RocksDB property (e.g. ``rocksdb.total-sst-files-size``) summed over the
        column families; 0 when closed. Only from the writer's thread: the handle may close."""
        total = 0
        for family in self._families.values():
            total += family.property_int_value(name) or 0
        return total

    def memory(self) -> dict[str, int]:
        """RocksDB's memory by part (``shared.storage.memory_usage``); {} when closed. Only from
        the writer's thread, like ``int_property``."""
        return storage.memory_usage(self._families) if self._db is not None else {}

    def known_symbols(self) -> list[str]:
        """Every symbol ever stored, from the ``meta`` family."""
        self._require()
        return sorted(self._symbols)

    def delete_before(self, symbols: Iterable[str], cutoff: int, marker: bytes) -> None:
        """Range-delete every second older than ``cutoff`` of ``symbols`` in both data families.

        One synced batch with all the range tombstones plus the ``retention`` marker in ``meta``:
        a lone ``delete_range`` is not seen by a secondary until the next write (measured with
        rocksdict 0.3.29), a batch is seen at its next catch-up.
        """
        db = self._require()
        batch = WriteBatch(raw_mode=True)
        for symbol in symbols:
            begin, end = record_key(symbol, 0), record_key(symbol, cutoff)
            for name in (*storage.DATA_FAMILIES, *storage.AGGREGATE_FAMILIES):
                batch.delete_range(begin, end, self._handles[name])
        batch.put(storage.RETENTION_KEY, marker, self._handles[storage.META_CF])
        try:
            db.write(batch, self._synced)
        except Exception as exc:
            self.discard()
            raise StoreUnavailable(f"range delete failed: {exc}") from exc
        if self.volume is not None:
            # The minute and hour around the cut lost seconds: rebuild them from disk when needed.
            self.volume.reset()

    def close(self) -> None:
        """Flush memtables and close; safe to call twice."""
        self._release(logging.ERROR)

    def discard(self) -> None:
        """Drop a handle that is in RocksDB's sticky error state, releasing its LOCK file.

        ``close()`` itself fails then ("Writer has previous error"); what matters is that no
        Python object (column family, handle, iterator) keeps the C++ DB alive, so a later
        ``open()`` in this same process can take the lock again.
        """
        self._release(logging.DEBUG)

    def _release(self, close_error_level: int) -> None:
        """Close the handle and drop every reference to it; a failed close is logged."""
        if self._db is None:
            return
        db = self._db
        self._forget()
        try:
            db.close()
        except Exception as exc:
            log.log(close_error_level, "Closing the database failed: %s", exc)
        del db
        gc.collect()

    def _forget(self) -> None:
        self._db = None
        self.volume = None
        self._families.clear()
        self._handles.clear()

    def _require(self) -> Rdict:
        if self._db is None:
            raise StoreUnavailable("the database is not open")
        return self._db
