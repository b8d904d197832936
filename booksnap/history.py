"""The stored history as Arrow: ``open_history(data_dir)`` for pandas, polars and DuckDB users.

Reads the writer's RocksDB directly, as a *secondary* instance in a private temporary
directory, so it is safe beside a running writer and never writes. Example::

    from booksnap.history import open_history
    with open_history("data") as history:
        df = history.read("BTCUSDT", "2026-11-24T08:00:00Z", "2026-11-24T09:00:00Z").to_pandas()

Every method streams: ``iter_batches``/``iter_trade_batches`` hold at most one batch of
decoded seconds (``batch_seconds`` rows, and never more than ``MAX_BATCH_LEVELS`` book levels or
``MAX_BATCH_TRADES`` trades); ``read``/``trades`` collect those batches into one table.
The schemas are in ``booksnap.columns`` and documented in ``docs/storage.md``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path

import pyarrow as pa
from rocksdict import Rdict, ReadOptions

from booksnap.columns import (
    BOOK_SCHEMA,
    TRADE_SCHEMA,
    FlatBooks,
    FlatTrades,
    build_batch,
    build_trade_batch,
    flatten,
    flatten_trades,
)
from shared import storage
from shared.codec import decode_book, decode_trades, record_key
from shared.errors import BooksnapError
from shared.model import MAX_LEVELS, validate_symbol
from shared.times import MAX_SECOND, parse_time

DEFAULT_BATCH_SECONDS = 3_600
MAX_BATCH_SECONDS = 86_400
MAX_BATCH_LEVELS = 2_000_000  # book levels per batch (~32 MB of ints): bounds a batch's memory
MAX_BATCH_TRADES = 1_000_000  # trades per batch
# Books decoded before they are flattened to int64 arrays: small enough that their tuples are
# still in the CPU cache (and, at 5,000 levels a side, at most ~35 MB of Python objects).
FLATTEN_RUN = 32

TimeLike = int | float | str | datetime


class HistoryUnavailable(BooksnapError):
    """The data directory holds no booksnap database (yet), or it cannot be opened."""


@dataclass(frozen=True)
class Coverage:
    """What is stored of one symbol: first and last stored second and how many seconds."""

    symbol: str
    first: int | None
    last: int | None
    count: int


def open_history(data_dir: str | Path) -> History:
    """Open the database of ``data_dir`` (``<data_dir>/rocksdb``) read-only."""
    return History(Path(data_dir))


def to_second(value: TimeLike) -> int:
    """Unix seconds (floored) from a number, ISO-8601 text (naive = UTC) or an aware datetime."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{value!r} has no time zone; pass an aware datetime (UTC)")
        return parse_time(value.timestamp())
    return parse_time(value)


def _range(start: TimeLike, end: TimeLike) -> tuple[int, int]:
    first, last = to_second(start), to_second(end)
    if last < first:
        raise ValueError(f"end {last} is before start {first}")
    return first, min(last, MAX_SECOND - 1)


def _check_count(name: str, value: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise ValueError(f"{name} must be an integer from 1 to {high}, got {value!r}")
    return value


class History:
    """A read-only view of one data directory; close it (or use ``with``) when done."""

    def __init__(self, data_dir: Path) -> None:
        self.db_path = storage.db_path(data_dir)
        if not (self.db_path / "CURRENT").exists():
            raise HistoryUnavailable(f"no booksnap database at {self.db_path}")
        self._secondary_dir = Path(tempfile.mkdtemp(prefix="booksnap-history-"))
        # Removed on close, and also if the object is dropped unclosed or at interpreter exit.
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._secondary_dir, True)
        try:
            self._db = storage.open_secondary(self.db_path, self._secondary_dir)
            self._db.try_catch_up_with_primary()
        except Exception as exc:  # rocksdict raises plain exceptions; ValueError while creating
            self._cleanup()
            raise HistoryUnavailable(f"cannot open {self.db_path}: {exc}") from exc
        self._families = storage.families(self._db)
        self._open = True

    # --- lifecycle ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Catch up with the writer: seconds stored since opening become visible."""
        if not self._open:
            raise HistoryUnavailable("this history is closed")
        try:
            self._db.try_catch_up_with_primary()
        except Exception as exc:  # e.g. the writer was restarted and its files compacted away
            raise HistoryUnavailable(
                f"cannot catch up with {self.db_path} ({exc}); reopen"
            ) from exc

    def close(self) -> None:
        """Release the database and remove the private secondary directory."""
        if self._open:
            self._open = False
            self._families = {}
            self._db.close()
        self._cleanup()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _family(self, name: str) -> Rdict:
        if not self._open:
            raise HistoryUnavailable("this history is closed")
        return self._families[name]

    # --- what is stored -------------------------------------------------------------------------

    def symbols(self) -> list[Coverage]:
        """Every stored symbol with its first and last stored second and how many it holds."""
        meta = self._family(storage.META_CF)
        return [self.coverage(symbol) for symbol in storage.known_symbols(meta)]

    def coverage(self, symbol: str) -> Coverage:
        """First/last stored second of ``symbol`` and the count (a key-only scan, no values)."""
        symbol = validate_symbol(symbol)
        snapshots = self._family(storage.SNAPSHOTS_CF)
        first = storage.first_second(snapshots, symbol)
        last = storage.last_second(snapshots, symbol)
        count = 0 if first is None or last is None else self._count(symbol, first, last)
        return Coverage(symbol, first, last, count)

    def _count(self, symbol: str, first: int, last: int) -> int:
        read = ReadOptions()
        read.set_iterate_upper_bound(record_key(symbol, last + 1))
        snapshots = self._family(storage.SNAPSHOTS_CF)
        keys = snapshots.keys(from_key=record_key(symbol, first), read_opt=read)
        count = sum(1 for _ in keys)
        del keys, read  # the iterator must not outlive its bounds
        return count

    # --- books ----------------------------------------------------------------------------------

    def iter_batches(
        self,
        symbol: str,
        start: TimeLike,
        end: TimeLike,
        levels: int | None = None,
        batch_seconds: int = DEFAULT_BATCH_SECONDS,
    ) -> Iterator[pa.RecordBatch]:
        """The stored books of ``start..end`` (both inclusive) as RecordBatches of BOOK_SCHEMA.

        One row per stored second, ascending; ``levels`` keeps the best N of each side.
        """
        symbol = validate_symbol(symbol)
        first, last = _range(start, end)
        if levels is not None:
            _check_count("levels", levels, MAX_LEVELS)
        _check_count("batch_seconds", batch_seconds, MAX_BATCH_SECONDS)
        values = self._values(storage.SNAPSHOTS_CF, symbol, first, last)
        while True:
            parts: list[FlatBooks] = []
            rows = held = 0
            while rows < batch_seconds and held < MAX_BATCH_LEVELS:
                # The writer validated order and crossing before storing: decode types only.
                # Runs of FLATTEN_RUN books are flattened while their tuples are cache-hot.
                run = min(FLATTEN_RUN, batch_seconds - rows)
                books = [decode_book(value, check=False) for value in islice(values, run)]
                if not books:
                    break
                part = flatten(books, levels)
                parts.append(part)
                rows += part.rows
                held += part.levels
            if not parts:
                return
            yield build_batch(symbol, parts)

    def read(
        self,
        symbol: str,
        start: TimeLike,
        end: TimeLike,
        levels: int | None = None,
        batch_seconds: int = DEFAULT_BATCH_SECONDS,
    ) -> pa.Table:
        """``iter_batches`` collected into one table (``.to_pandas()``, ``polars.from_arrow``)."""
        batches = self.iter_batches(symbol, start, end, levels, batch_seconds)
        return pa.Table.from_batches(list(batches), schema=BOOK_SCHEMA)

    def last(self, symbol: str, seconds: int = 3_600, levels: int | None = None) -> pa.Table:
        """The stored books of the last ``seconds`` seconds up to now (after a catch-up)."""
        _check_count("seconds", seconds, MAX_SECOND)
        self.refresh()
        now = int(time.time())
        return self.read(symbol, max(0, now - seconds + 1), now, levels)

    # --- trades ---------------------------------------------------------------------------------

    def iter_trade_batches(
        self,
        symbol: str,
        start: TimeLike,
        end: TimeLike,
        batch_seconds: int = DEFAULT_BATCH_SECONDS,
    ) -> Iterator[pa.RecordBatch]:
        """The aggregate trades of ``start..end`` (inclusive) as RecordBatches of TRADE_SCHEMA."""
        symbol = validate_symbol(symbol)
        first, last = _range(start, end)
        _check_count("batch_seconds", batch_seconds, MAX_BATCH_SECONDS)
        values = self._values(storage.TRADES_CF, symbol, first, last)
        while True:
            parts: list[FlatTrades] = []
            seconds = trades = 0
            while seconds < batch_seconds and trades < MAX_BATCH_TRADES:
                run = min(FLATTEN_RUN, batch_seconds - seconds)
                records = [decode_trades(value) for value in islice(values, run)]
                if not records:
                    break
                part = flatten_trades(records)
                parts.append(part)
                seconds += len(records)
                trades += part.rows
            if not parts:
                return
            yield build_trade_batch(symbol, parts)

    def trades(
        self,
        symbol: str,
        start: TimeLike,
        end: TimeLike,
        batch_seconds: int = DEFAULT_BATCH_SECONDS,
    ) -> pa.Table:
        """``iter_trade_batches`` collected into one table: one row per aggregate trade."""
        batches = self.iter_trade_batches(symbol, start, end, batch_seconds)
        return pa.Table.from_batches(list(batches), schema=TRADE_SCHEMA)

    # --- the range read -------------------------------------------------------------------------

    def _values(self, family: str, symbol: str, first: int, last: int) -> Iterator[bytes]:
        """Stored values of ``first..last`` in key order.

        ``values()`` walks the range in rocksdict's native iterator (one Python call per value,
        ~2x cheaper than ``storage.iter_range``'s key/value/next), with the same exact bounds.
        """
        read = ReadOptions()
        read.set_iterate_lower_bound(record_key(symbol, first))
        read.set_iterate_upper_bound(record_key(symbol, last + 1))
        values = self._family(family).values(from_key=record_key(symbol, first), read_opt=read)
        try:
            yield from values
        finally:
            # Dropped before ``read``: a RocksDB iterator must never outlive its bound buffers.
            del values
