"""SecondaryReader: the query process's read-only view of the writer's RocksDB.

It opens the database as a RocksDB *secondary* instance in its own directory and catches up with
the primary before every answer, so a second the writer stored a moment ago is visible. It never
writes. It copes with a database that does not exist yet (the writer has not started) and with
writer restarts (a failed catch-up closes and reopens the secondary).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Hashable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import msgpack
from rocksdict import Rdict, ReadOptions

from query.analytics.profile_cache import AggregateCache
from query.analytics.profile_merge import VolumeColumns
from shared import storage
from shared.codec import decode_snapshot, decode_trades, snapshot_key, symbol_prefix
from shared.errors import BooksnapError, DecodeError, StoreUnavailable
from shared.fastcodec import decode_trade_columns
from shared.model import BookSnapshot, Trade
from shared.volume import HOUR, MINUTE, Volume

log = logging.getLogger(__name__)


MAX_LOADED_LEVELS = 4_000_000  # book levels one request may hold in memory (~0.4 GB at worst)


class VolumeSink(Protocol):
    """Where ``read_volume`` puts what it reads (``VolumeColumns`` or a ``_VolumeMaps``)."""

    def add_aggregate(self, value: bytes, origin: Hashable) -> None: ...

    def add_trades(
        self, prices: Iterable[int], qtys: Iterable[int], buyer_maker: Iterable[bool]
    ) -> None: ...


class _VolumeMaps:
    """A VolumeSink that sums into a ``Volume`` (price-keyed maps)."""

    def __init__(self, volume: Volume) -> None:
        self.volume = volume
        self.add_trades = volume.add_trades

    def add_aggregate(self, value: bytes, origin: Hashable) -> None:
        self.volume.add(Volume.decode(value))


class NoDataYet(BooksnapError):
    """The writer has not created the database yet."""


class TooMuchData(BooksnapError):
    """A request would load more than MAX_LOADED_LEVELS book levels; ask for a shorter period."""


class SecondaryReader:
    """Opens, catches up and reads the secondary instance; used from one thread only."""

    def __init__(self, db_path: Path, secondary_dir: Path, retry_seconds: float = 1.0) -> None:
        self.db_path = db_path
        self.secondary_dir = secondary_dir
        self.retry_seconds = retry_seconds
        self._db: Rdict | None = None
        self._families: dict[str, Rdict] = {}
        self._last_attempt = float("-inf")
        self._waiting_logged = False
        self.reopens = 0
        # Decoded volume aggregates, reused while their stored bytes stay the same.
        self.volume_cache = AggregateCache()

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._db is not None

    def refresh(self) -> None:
        """Open if needed, then catch up with the primary; NoDataYet/StoreUnavailable otherwise."""
        if self._db is None:
            self._open()
            return
        try:
            self._db.try_catch_up_with_primary()
        except Exception as exc:  # rocksdict raises plain Exception on I/O errors
            # The writer may have been restarted or its files compacted away: start afresh.
            log.warning("catch-up with the primary failed (%s); reopening the secondary", exc)
            self.close()
            self._last_attempt = float("-inf")
            self._open()
            self.reopens += 1

    def maybe_open(self) -> None:
        """Try to open when it is time to retry; never raises (for the idle loop)."""
        if self._db is None and time.monotonic() - self._last_attempt >= self.retry_seconds:
            with contextlib.suppress(BooksnapError):
                self._open()

    def _open(self) -> None:
        if time.monotonic() - self._last_attempt < min(self.retry_seconds, 0.2):
            # Rate-limit attempts: a burst of requests must not hammer a missing database.
            raise self._not_open_error()
        self._last_attempt = time.monotonic()
        if not (self.db_path / "CURRENT").exists():
            if not self._waiting_logged:
                log.info("waiting for the writer to create %s", self.db_path)
                self._waiting_logged = True
            raise self._not_open_error()
        try:
            db = storage.open_secondary(self.db_path, self.secondary_dir)
            db.try_catch_up_with_primary()
            families = storage.families(db)
        except Exception as exc:
            log.error("cannot open %s as a secondary: %s", self.db_path, exc)
            raise StoreUnavailable(f"cannot open the database {self.db_path}: {exc}") from exc
        self._db, self._families = db, families
        log.info("opened %s as a secondary (own dir %s)", self.db_path, self.secondary_dir)

    def _not_open_error(self) -> BooksnapError:
        if (self.db_path / "CURRENT").exists():
            return StoreUnavailable(f"the database {self.db_path} cannot be opened right now")
        return NoDataYet(f"no data yet: the writer has not created {self.db_path} yet")

    def close(self) -> None:
        """Release the secondary; safe to call twice."""
        self._families = {}
        if self._db is not None:
            try:
                self._db.close()
            except Exception as exc:
                log.warning("closing the secondary failed: %s", exc)
            self._db = None

    def _family(self, name: str) -> Rdict:
        if self._db is None:
            raise self._not_open_error()
        return self._families[name]

    # --- reads ----------------------------------------------------------------------------------

    def snapshots(
        self, symbol: str, first: int, last: int, limit: int, max_levels: int = MAX_LOADED_LEVELS
    ) -> list[BookSnapshot]:
        """Snapshots of ``first..last`` inclusive, ascending, at most ``limit`` of them.

        TooMuchData once they hold more than ``max_levels`` levels in total (collectors may store
        up to 5,000 levels per side, so a day of them would not fit in memory).
        """
        found: list[BookSnapshot] = []
        levels = 0
        for snap in self.iter_snapshots(symbol, first, last):
            levels += len(snap.bids) + len(snap.asks)
            if levels > max_levels:
                raise TooMuchData(
                    f"{symbol} {first}..{last} holds more than {max_levels:,} book levels "
                    f"({len(found):,} snapshots loaded so far); ask for a shorter period"
                )
            found.append(snap)
            if len(found) >= limit:
                break
        return found

    def iter_snapshots(self, symbol: str, first: int, last: int) -> Iterator[BookSnapshot]:
        """Snapshots of ``first..last`` inclusive, ascending, decoded one at a time."""
        for _, value in storage.iter_range(self._family(storage.SNAPSHOTS_CF), symbol, first, last):
            # The writer validated every book before storing it; skip re-checking the order.
            yield decode_snapshot(value, validate=False)

    def trades(self, symbol: str, first: int, last: int) -> dict[int, tuple[Trade, ...]]:
        """Stored trades per second of ``first..last``; seconds not recorded are absent."""
        found: dict[int, tuple[Trade, ...]] = {}
        for second, value in storage.iter_range(
            self._family(storage.TRADES_CF), symbol, first, last
        ):
            _, _, trades = decode_trades(value)
            found[second] = trades
        return found

    def iter_trades(self, symbol: str, first: int, last: int) -> Iterator[Trade]:
        """Every stored trade of ``first..last``, in time order, decoded one second at a time.

        For aggregations over days (the volume profile): only one second's trades are in memory.
        """
        for _, value in storage.iter_range(self._family(storage.TRADES_CF), symbol, first, last):
            yield from decode_trades(value)[2]

    def volume_rows(self, symbol: str, first: int, last: int) -> Volume:
        """Traded volume per exact price over the seconds ``first..last`` (inclusive).

        Exactly the sum of the stored trades, read mostly from the writer's aggregates: whole
        hours from ``volume_hours``, whole minutes from ``volume``, and raw trades only for the
        ragged edges and for any hour/minute without an aggregate (see docs/storage.md).
        """
        rows = Volume()
        self.read_volume(_VolumeMaps(rows), symbol, first, last)
        return rows

    def volume_columns(self, symbol: str, first: int, last: int) -> VolumeColumns:
        """``volume_rows`` collected as numpy chunks (merged by the caller, with numpy)."""
        columns = VolumeColumns(self.volume_cache)
        self.read_volume(columns, symbol, first, last)
        return columns

    def read_volume(self, sink: VolumeSink, symbol: str, first: int, last: int) -> None:
        """Feed every aggregate and raw trade that makes up ``first..last`` into ``sink``."""
        if last < first:
            return
        minutes_from = -(-first // MINUTE) * MINUTE
        minutes_to = (last + 1) // MINUTE * MINUTE  # exclusive
        if minutes_from >= minutes_to:
            self._add_raw(sink, symbol, first, last)
            return
        self._add_raw(sink, symbol, first, minutes_from - 1)
        hours_from = -(-minutes_from // HOUR) * HOUR
        hours_to = minutes_to // HOUR * HOUR
        if hours_from < hours_to:
            self._add_minutes(sink, symbol, minutes_from, hours_from)
            missing = self._add_aggregates(
                sink, storage.VOLUME_HOURS_CF, symbol, (hours_from, hours_to), HOUR
            )
            for start, end in missing:
                self._add_minutes(sink, symbol, start, end)
            self._add_minutes(sink, symbol, hours_to, minutes_to)
        else:
            self._add_minutes(sink, symbol, minutes_from, minutes_to)
        self._add_raw(sink, symbol, minutes_to, last)

    def _add_minutes(self, sink: VolumeSink, symbol: str, start: int, end: int) -> None:
        """Whole minutes ``start..end`` (exclusive end): aggregates, raw trades where absent."""
        for gap_start, gap_end in self._add_aggregates(
            sink, storage.VOLUME_CF, symbol, (start, end), MINUTE
        ):
            self._add_raw(sink, symbol, gap_start, gap_end - 1)

    def _add_aggregates(
        self, sink: VolumeSink, family: str, symbol: str, span: tuple[int, int], length: int
    ) -> list[tuple[int, int]]:
        """Add the aggregates (periods of ``length`` s) within ``span`` = ``[start, end)``.

        Returns the ranges ``[from, to)`` that have no aggregate.
        """
        start, end = span
        if end <= start:
            return []
        if self._db is not None and family not in self._families:
            return [span]  # a database from before the aggregates existed
        missing: list[tuple[int, int]] = []
        expected = start
        for period, value in storage.iter_range(self._family(family), symbol, start, end - 1):
            if period % length:
                continue  # not a period key (never written so); its seconds are read raw
            if period > expected:
                missing.append((expected, period))
            sink.add_aggregate(value, (family, symbol, period))
            expected = period + length
        if expected < end:
            missing.append((expected, end))
        return missing

    def _add_raw(self, sink: VolumeSink, symbol: str, first: int, last: int) -> None:
        for _, value in storage.iter_range(self._family(storage.TRADES_CF), symbol, first, last):
            sink.add_trades(*decode_trade_columns(value)[2:])

    def stored_seconds(self, symbol: str, first: int, last: int) -> Iterator[int]:
        """The stored seconds of ``first..last``, keys only (values are never read)."""
        if last < first:
            return
        read = ReadOptions()
        read.set_iterate_lower_bound(snapshot_key(symbol, first))
        read.set_iterate_upper_bound(snapshot_key(symbol, last + 1))
        it = self._family(storage.SNAPSHOTS_CF).iter(read)
        it.seek(snapshot_key(symbol, first))
        skip = len(symbol_prefix(symbol))
        while it.valid():
            yield int(it.key()[skip:])
            it.next()
        del it

    def count(self, symbol: str, first: int, last: int) -> int:
        """How many seconds of ``first..last`` are stored (a key-only range scan)."""
        return sum(1 for _ in self.stored_seconds(symbol, first, last))

    def missing_ranges(
        self, symbol: str, first: int, last: int, max_ranges: int
    ) -> tuple[int, int, list[tuple[int, int]]]:
        """(stored seconds, missing range count, first ``max_ranges`` missing [from, to] ranges)."""
        stored = 0
        ranges = 0
        listed: list[tuple[int, int]] = []
        expected = first
        for second in self.stored_seconds(symbol, first, last):
            stored += 1
            if second > expected:
                ranges += 1
                if len(listed) < max_ranges:
                    listed.append((expected, second - 1))
            expected = second + 1
        if expected <= last:
            ranges += 1
            if len(listed) < max_ranges:
                listed.append((expected, last))
        return stored, ranges, listed

    def last_second(self, symbol: str) -> int | None:
        return storage.last_second(self._family(storage.SNAPSHOTS_CF), symbol)

    def first_second(self, symbol: str) -> int | None:
        return storage.first_second(self._family(storage.SNAPSHOTS_CF), symbol)

    def symbols(self) -> list[str]:
        return storage.known_symbols(self._family(storage.META_CF))

    def writer_status(self) -> dict[str, Any] | None:
        """The writer's status record from ``meta`` (msgpack map), or None if absent/unreadable."""
        raw = self._family(storage.META_CF).get(storage.STATUS_KEY)
        if raw is None:
            return None
        try:
            record = msgpack.unpackb(raw, raw=False, strict_map_key=False)
        except Exception as exc:
            raise DecodeError(f"unreadable writer status record: {exc}") from exc
        if not isinstance(record, dict):
            raise DecodeError("writer status record is not a map")
        return record

    def size_bytes(self) -> int:
        """Sum of the file sizes under the database directory."""
        total = 0
        if self.db_path.exists():
            for path in self.db_path.rglob("*"):
                try:
                    if path.is_file():
                        total += path.stat().st_size
                except OSError:  # a file compacted away while we looked
                    continue
        return total
