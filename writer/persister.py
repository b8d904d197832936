"""Persister: the pending queue in front of the store, and the way back from a failed write.

Records wait in the bounded queue until the oldest is ``flush_interval`` old (or a batch is full),
then go to disk in one WAL-synced batch; only after that is each ``Stored snapshot for ...`` line
logged. A failed write (full disk, I/O error) leaves them queued, drops the database handle
(RocksDB's error is sticky) and reopens it with capped exponential backoff, logging each attempt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from shared.clock import Clock
from shared.errors import StoreUnavailable
from writer.config import WriterConfig
from writer.pending import PendingQueue, Record
from writer.status import WriterStatus
from writer.store import SnapshotStore
from writer.storedlog import StoredLog

log = logging.getLogger(__name__)


class Persister:
    """Pending records + the store: synced batches, the Stored lines, reopen after failures."""

    def __init__(
        self, config: WriterConfig, store: SnapshotStore, status: WriterStatus, clock: Clock
    ) -> None:
        self.config = config
        self.store = store
        self.status = status
        self.clock = clock
        self.pending = PendingQueue(config.capacity)
        self._reopen_delay = config.reopen_min_delay
        self._reopen_at = 0.0
        self._dropped_reported = 0
        self._stored_log = StoredLog(log)
        # Metrics (writer/metrics.py) when the exporter is on: (durable batch, seconds it took).
        self.on_durable: Callable[[Sequence[Record], float], None] | None = None

    def queue(self, record: Record) -> None:
        if self.pending.add(record) is not None:
            self.status.dropped += 1

    def due_in(self) -> float | None:
        """Seconds until the next flush is due, None when there is nothing to write now."""
        oldest = self.pending.oldest_arrival()
        if oldest is None or not self.store.is_open:
            return None
        return oldest + self.config.flush_interval - self.clock.monotonic()

    def flush(self, force: bool = False) -> None:
        """Write queued records in synced batches once due (or all of them when ``force``)."""
        due_in = self.due_in()
        if due_in is None:
            return
        if not (force or due_in <= 0 or len(self.pending) >= self.config.max_batch):
            return
        while len(self.pending) and self.store.is_open:
            batch = self.pending.peek(self.config.max_batch)
            started = time.perf_counter()
            try:
                self.store.write(batch)
            except StoreUnavailable as exc:
                self.failed(exc, f"writing {len(batch)} records")
                return
            self.pending.remove(batch)
            # Only now, with the batch durable: one "Stored snapshot for ..." line per record.
            self._stored_log.emit(batch)
            if self.on_durable is not None:
                self.on_durable(batch, time.perf_counter() - started)
            self.status.stored(batch, self.clock.now())

    def put_meta(self, key: bytes, value: bytes) -> None:
        """Write a ``meta`` entry if the store is open (a failure counts like a failed write)."""
        if not self.store.is_open:
            return
        try:
            self.store.put_meta(key, value)
        except StoreUnavailable as exc:
            self.failed(exc, "writing the status record")

    def failed(self, exc: StoreUnavailable, action: str) -> None:
        """A write failed: keep the records, drop the handle, schedule the reopen."""
        self.status.write_errors += 1
        self.status.store_state = "unavailable"
        self.store.discard()
        log.error(
            "%s failed, %d records stay queued (capacity %d); reopening the database in %.1f s: %s",
            action.capitalize(),
            len(self.pending),
            self.pending.capacity,
            self._reopen_delay,
            exc,
        )
        self._reopen_at = self.clock.monotonic() + self._reopen_delay

    def reopen_if_due(self, now: bool = False) -> None:
        """Try to reopen a dropped handle when its backoff is over (or at once if ``now``)."""
        monotonic = self.clock.monotonic()
        if self.store.is_open or (monotonic < self._reopen_at and not now):
            return
        try:
            self.store.open()
        except StoreUnavailable as exc:
            self._reopen_delay = min(self.config.reopen_max_delay, self._reopen_delay * 2)
            self._reopen_at = monotonic + self._reopen_delay
            log.error(
                "Database still unavailable (%d records queued), next attempt in %.1f s: %s",
                len(self.pending),
                self._reopen_delay,
                exc,
            )
            return
        self._reopen_delay = self.config.reopen_min_delay
        self.status.store_state = "ok"
        log.info("Database reopened; writing %d queued records", len(self.pending))
        self.flush(force=True)

    def open_until_ready(self, stopped: Callable[[], bool], sleep: Callable[[float], None]) -> bool:
        """Open the database at start-up, retrying with backoff until it opens or a stop."""
        delay = self.config.reopen_min_delay
        while not stopped():
            try:
                self.store.open()
            except StoreUnavailable as exc:
                log.error("Cannot open the database, retrying in %.1f s: %s", delay, exc)
                sleep(delay)
                delay = min(self.config.reopen_max_delay, delay * 2)
                continue
            self.status.store_state = "ok"
            return True
        return False

    def report_drops(self) -> None:
        """Log (aggregated) records pushed out of the full queue since the last report."""
        if self.status.dropped > self._dropped_reported:
            log.error(
                "Pending queue full (%d records): dropped %d oldest records so far; they are lost "
                "unless a collector's buffer still holds them",
                self.pending.capacity,
                self.status.dropped,
            )
            self._dropped_reported = self.status.dropped

    def final_flush(self) -> None:
        """At shutdown: write everything queued, reopening the database once if it is closed."""
        if not self.store.is_open:
            self.reopen_if_due(now=True)
        self.flush(force=True)

    def close(self) -> None:
        """Close the database, reporting what could not be written."""
        if len(self.pending):
            log.error("%d records could not be written before shutdown", len(self.pending))
        self.store.close()
        log.info("Database closed")
