"""SecondaryReader: the query process's read-only view of the writer's RocksDB.

It opens the database as a RocksDB *secondary* instance in its own directory and catches up with
the primary before every answer, so a second the writer stored a moment ago is visible. It never
writes. It copes with a database that does not exist yet (the writer has not started) and with
writer restarts (a failed catch-up closes and reopens the secondary).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
from rocksdict import Rdict, ReadOptions

from query.analytics.profile.cache import AggregateCache
from query.record_cache import RecordCache
from shared import storage
from shared.clock import Clock, SystemClock
from shared.codec import decode_book, decode_trades, record_key, symbol_prefix
from shared.errors import BooksnapError, DecodeError, StoreUnavailable
from shared.model import BookSnapshot, SecondTrades, Trade

log = logging.getLogger(__name__)


MAX_LOADED_LEVELS = 4_000_000  # book levels one request may hold in memory (~0.4 GB at worst)
# Decoded windows kept for the next request: ~120 B per level, so ~60 MB of snapshots (the
# ten-minute baselines of ~35 symbols at 20 levels) and ~40 MB of trades.
CACHED_LEVELS = 500_000
CACHED_TRADES = 400_000
# A catch-up with the primary costs ~3 ms even when nothing changed; it is skipped while the
# primary's WAL and MANIFEST files are unchanged, but never for longer than this.
CATCH_UP_AT_LEAST_EVERY = 1.0


def _snapshot_levels(_: bytes, snap: BookSnapshot) -> int:
    return len(snap.bids) + len(snap.asks)


def _trade_count(_: bytes, record: SecondTrades) -> int:
    return len(record.trades)


def _decode_stored_snapshot(value: bytes) -> BookSnapshot:
    # The writer validated every book before storing it; skip re-checking the order.
    return decode_book(value, check=False)


class NoDataYet(BooksnapError):
    """The writer has not created the database yet."""


class TooMuchData(BooksnapError):
    """A request would load more than MAX_LOADED_LEVELS book levels; ask for a shorter period."""


class SecondaryReader:
    """Opens, catches up and reads the secondary instance; used from one thread only."""

    def __init__(
        self,
        db_path: Path,
        secondary_dir: Path,
        retry_seconds: float = 1.0,
        clock: Clock | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
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
        # Decoded snapshots and trades of recent windows, reused while their bytes are the same.
        self.snapshot_cache = RecordCache(_decode_stored_snapshot, _snapshot_levels, CACHED_LEVELS)
        self.trades_cache = RecordCache(decode_trades, _trade_count, CACHED_TRADES)
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self._caught_up_at = float("-inf")

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._db is not None

    def refresh(self) -> None:
        """Open if needed, then catch up with the primary; NoDataYet/StoreUnavailable otherwise.

        The catch-up is skipped when the primary has written nothing since the last one (its WAL
        and MANIFEST files are the same), at most for ``CATCH_UP_AT_LEAST_EVERY`` seconds.
        """
        signature = storage.change_signature(self.db_path)
        now = self.clock.monotonic()
        if self._db is None:
            self._open()
        elif signature == self._signature and now - self._caught_up_at < CATCH_UP_AT_LEAST_EVERY:
            return
        else:
            self._catch_up()
        self._signature, self._caught_up_at = signature, now

    def _catch_up(self) -> None:
        assert self._db is not None
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
        if self._db is None and self.clock.monotonic() - self._last_attempt >= self.retry_seconds:
            with contextlib.suppress(BooksnapError):
                self._open()

    def _open(self) -> None:
        if self.clock.monotonic() - self._last_attempt < min(self.retry_seconds, 0.2):
            # Rate-limit attempts: a burst of requests must not hammer a missing database.
            raise self._not_open_error()
        self._last_attempt = self.clock.monotonic()
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

    def family(self, name: str) -> Rdict:
        """The open column family ``name`` (NoDataYet/StoreUnavailable when not open)."""
        if self._db is None:
            raise self._not_open_error()
        return self._families[name]

    def has_family(self, name: str) -> bool:
        """Whether the open database has ``name`` (an older one may lack the aggregates)."""
        if self._db is None:
            raise self._not_open_error()
        return name in self._families

    # --- reads ----------------------------------------------------------------------------------

    def snapshots(
        self,
        symbol: str,
        first: int,
        last: int,
        limit: int,
        max_levels: int = MAX_LOADED_LEVELS,
        *,
        cached: bool = False,
    ) -> list[BookSnapshot]:
        """Snapshots of ``first..last`` inclusive, ascending, at most ``limit`` of them.

        TooMuchData once they hold more than ``max_levels`` levels in total (collectors may store
        up to 5,000 levels per side, so a day of them would not fit in memory).
        """
        found: list[BookSnapshot] = []
        levels = 0
        for snap in self.iter_snapshots(symbol, first, last, cached=cached):
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

    def iter_snapshots(
        self, symbol: str, first: int, last: int, *, cached: bool = False
    ) -> Iterator[BookSnapshot]:
        """Snapshots of ``first..last`` inclusive, ascending, decoded one at a time.

        ``cached`` keeps them decoded for the next request (for short, repeated windows; a long
        scan would only evict them).
        """
        values = storage.iter_range(self.family(storage.SNAPSHOTS_CF), symbol, first, last)
        if not cached:
            for _, value in values:
                yield _decode_stored_snapshot(value)
            return
        cache = self.snapshot_cache.get
        for second, value in values:
            yield cache((symbol, second), value)

    def trades(self, symbol: str, first: int, last: int) -> dict[int, tuple[Trade, ...]]:
        """Stored trades per second of ``first..last``; seconds not recorded are absent.

        Kept decoded for the next request, like the snapshots of a window.
        """
        cache = self.trades_cache.get
        return {
            second: cache((symbol, second), value).trades
            for second, value in storage.iter_range(
                self.family(storage.TRADES_CF), symbol, first, last
            )
        }

    def iter_trades(self, symbol: str, first: int, last: int) -> Iterator[Trade]:
        """Every stored trade of ``first..last``, in time order, decoded one second at a time.

        For aggregations over days (the volume profile): only one second's trades are in memory.
        """
        for _, value in storage.iter_range(self.family(storage.TRADES_CF), symbol, first, last):
            yield from decode_trades(value).trades

    def stored_seconds(self, symbol: str, first: int, last: int) -> Iterator[int]:
        """The stored seconds of ``first..last``, keys only (values are never read)."""
        if last < first:
            return
        read = ReadOptions()
        read.set_iterate_lower_bound(record_key(symbol, first))
        read.set_iterate_upper_bound(record_key(symbol, last + 1))
        it = self.family(storage.SNAPSHOTS_CF).iter(read)
        it.seek(record_key(symbol, first))
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
        return storage.last_second(self.family(storage.SNAPSHOTS_CF), symbol)

    def first_second(self, symbol: str) -> int | None:
        return storage.first_second(self.family(storage.SNAPSHOTS_CF), symbol)

    def symbols(self) -> list[str]:
        return storage.known_symbols(self.family(storage.META_CF))

    def writer_status(self) -> dict[str, Any] | None:
        """The writer's status record from ``meta`` (msgpack map), or None if absent/unreadable."""
        raw = self.family(storage.META_CF).get(storage.STATUS_KEY)
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
