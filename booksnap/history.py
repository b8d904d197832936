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
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Protocol, Self, TypeVar

import pyarrow as pa
from rocksdict import Rdict, ReadOptions

from booksnap.columns import BOOK_SCHEMA, TRADE_SCHEMA, build_batch, build_trade_batch
from booksnap.flat import flatten, flatten_trades
from shared import storage
from shared.codec import record_key
from shared.config import os_reason, shown_path
from shared.errors import BooksnapError
from shared.model import MAX_LEVELS, validate_symbol
from shared.times import MAX_SECOND, parse_time

DEFAULT_BATCH_SECONDS = 3_600
MAX_BATCH_SECONDS = 86_400
MAX_BATCH_LEVELS = 2_000_000  # book levels per batch (~32 MB of ints): bounds a batch's memory
MAX_BATCH_TRADES = 1_000_000  # trades per batch
# Stored values read into arrays at once (``columns.flatten``), independently of the batches
# cut from them: enough to amortise the per-step numpy calls of ``shared.unpack`` over many
# records (~6,000 books of 20 levels a side, ~8,000 seconds of BTCUSDT trades), and bounded.
RUN_BYTES = 4 * 1024 * 1024
RUN_CHUNK = 64  # values taken at a time: a run overshoots RUN_BYTES by at most 64 values

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


def _runs(values: Iterator[bytes]) -> Iterator[list[bytes]]:
    """The values in runs of about ``RUN_BYTES`` (a run ends after the chunk that reaches it)."""
    while True:
        run: list[bytes] = []
        size = 0
        while size < RUN_BYTES:
            chunk = list(islice(values, RUN_CHUNK))
            if not chunk:
                break
            run += chunk
            size += sum(map(len, chunk))
        if not run:
            return
        yield run


class _Part(Protocol):
    """What ``_batches`` cuts: ``FlatBooks`` or ``FlatTrades``."""

    @property
    def rows(self) -> int: ...

    @property
    def held(self) -> int: ...

    def split(self, rows: int) -> tuple[Self, Self]: ...


Part = TypeVar("Part", bound=_Part)


def _batches(parts: Iterator[Part], rows: int, most: int) -> Iterator[list[Part]]:
    """Consecutive parts regrouped: ``rows`` rows a batch, or fewer once it holds ``most``."""
    carried: Part | None = None
    while True:
        batch: list[Part] = []
        taken = held = 0
        while taken < rows and held < most:
            part = carried if carried is not None else next(parts, None)
            carried = None
            if part is None:
                break
            if taken + part.rows > rows:
                part, carried = part.split(rows - taken)
            batch.append(part)
            taken += part.rows
            held += part.held
        if not batch:
            return
        yield batch


def _check_count(name: str, value: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise ValueError(f"{name} must be an integer from 1 to {high}, got {value!r}")
    return value


class History:
    """A read-only view of one data directory; close it (or use ``with``) when done."""

    def __init__(self, data_dir: Path) -> None:
        self.db_path = storage.db_path(data_dir)
        try:
            present = (self.db_path / "CURRENT").exists()
        except OSError as exc:  # a path the system refuses (too long, no permission)
            raise HistoryUnavailable(
                f"cannot use {shown_path(self.db_path)}: {os_reason(exc)}"
            ) from None
        if not present:
            raise HistoryUnavailable(f"no booksnap database at {shown_path(self.db_path)}")
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
        with self._values(storage.SNAPSHOTS_CF, symbol, first, last) as values:
            # The writer validated order and crossing before storing: types only.
            parts = (flatten(symbol, run, levels) for run in _runs(values))
            for batch in _batches(parts, batch_seconds, MAX_BATCH_LEVELS):
                yield build_batch(symbol, batch)

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
        with self._values(storage.TRADES_CF, symbol, first, last) as values:
            parts = (flatten_trades(symbol, run) for run in _runs(values))
            for batch in _batches(parts, batch_seconds, MAX_BATCH_TRADES):
                yield build_trade_batch(symbol, batch)

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

    @contextmanager
    def _values(self, family: str, symbol: str, first: int, last: int) -> Iterator[Iterator[bytes]]:
        """Stored values of ``first..last`` in key order, as rocksdict's own iterator.

        ``values()`` walks the range natively (one Python call per value, ~2x cheaper than
        ``storage.iter_range``'s key/value/next), with the same exact bounds.
        """
        read = ReadOptions()
        read.set_iterate_lower_bound(record_key(symbol, first))
        read.set_iterate_upper_bound(record_key(symbol, last + 1))
        values = self._family(family).values(from_key=record_key(symbol, first), read_opt=read)
        try:
            yield values
        finally:
            # Dropped before ``read``: a RocksDB iterator must never outlive its bound buffers.
            del values
