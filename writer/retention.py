"""Retention: how old data may get, and the per-symbol range deletes that enforce it.

Deleting is one ``delete_range`` per symbol and data column family, ``SYM:0000000000`` up to
(excluding) ``SYM:<cutoff>``, all in one synced batch: a handful of range tombstones, never a
scan of the data. The
symbols come from the ``meta`` family. RocksDB's compactions reclaim the space in the background.
"""

from __future__ import annotations

import logging

import msgpack

from shared.errors import StoreUnavailable
from shared.model import SCHEMA_VERSION
from writer.store import SnapshotStore

log = logging.getLogger(__name__)


def retention_cutoff(now: float, retention_seconds: int) -> int:
    """The oldest unix second to keep: everything strictly older is deleted."""
    if retention_seconds < 1:
        raise ValueError("retention must be at least one second")
    return max(0, int(now) - retention_seconds)


class RetentionSchedule:
    """Runs ``enforce`` every ``interval`` seconds (monotonic), the first time at start-up."""

    def __init__(self, retention_seconds: int, interval: float) -> None:
        self.retention_seconds = retention_seconds
        self.interval = interval
        self._due = 0.0

    def due(self, monotonic: float) -> bool:
        return monotonic >= self._due

    def run(self, store: SnapshotStore, now: float, monotonic: float) -> int | None:
        """Delete what is older than the cutoff for every known symbol; return the cutoff.

        Returns None (and retries soon) when the store is unavailable.
        """
        cutoff = retention_cutoff(now, self.retention_seconds)
        try:
            symbols = store.known_symbols()
            marker = {"v": SCHEMA_VERSION, "cutoff": cutoff, "at": int(now)}
            store.delete_before(symbols, cutoff, msgpack.packb(marker))
        except StoreUnavailable as exc:
            log.error("Retention skipped, retrying in 60 s: %s", exc)
            self._due = monotonic + min(60.0, self.interval)
            return None
        self._due = monotonic + self.interval
        log.info(
            "Retention: removed data older than %d (%d s kept) for %d symbols",
            cutoff,
            self.retention_seconds,
            len(symbols),
        )
        return cutoff
