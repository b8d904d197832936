"""Resync: when to ask for a REST snapshot, and what to do with the one that comes back."""

from __future__ import annotations

import logging
from collections.abc import Callable

from collector.rest import SnapshotFetcher
from collector.summary import Counters
from collector.sync import BookSync, Phase, SnapshotVerdict
from collector.wire import DepthSnapshot
from shared.clock import Clock
from shared.errors import BookGap

log = logging.getLogger(__name__)


class Resync:
    """Feeds BookSync the snapshots it needs, without ever blocking the loop.

    - A snapshot is requested once an event is buffered (Binance's procedure), whenever the gate
      in ``SnapshotFetcher`` allows (Retry-After, weight budget, failure backoff).
    - A stale snapshot is fetched again, a little later each time, so a lagging REST cache is
      not hammered.
    - With nothing buffered (an unknown or silent symbol) a request still goes now and then as a
      probe, so that REST errors such as -1121 "Invalid symbol" reach the log.
    """

    def __init__(
        self,
        symbol: str,
        *,
        sync: BookSync,
        fetcher: SnapshotFetcher,
        clock: Clock,
        counters: Counters,
        on_gap: Callable[[str], None],
        probe_interval: float,
    ) -> None:
        self._symbol = symbol
        self._sync = sync
        self._fetcher = fetcher
        self._clock = clock
        self._counters = counters
        self._on_gap = on_gap
        self._probe_interval = probe_interval
        self._next_probe = clock.monotonic() + 2.0
        self._stale = 0  # stale snapshots in a row
        self._refetch_at = 0.0  # monotonic: no request before this

    def poll(self) -> None:
        """Take a finished request's outcome, and start the next request when one is due."""
        outcome = self._fetcher.take()
        if outcome is not None:
            self._counters.snapshots += 1
            if outcome.snapshot is None:
                log.error("REST snapshot failed: %s", outcome.error)
            elif self._sync.phase is Phase.BUFFERING:
                self._apply(outcome.snapshot)
        if not self._fetcher.ready() or self._sync.phase is not Phase.BUFFERING:
            return
        now = self._clock.monotonic()
        if self._sync.buffered and now >= self._refetch_at:
            self._fetcher.start()
        elif not self._sync.buffered and now >= self._next_probe:
            self._next_probe = now + self._probe_interval
            self._fetcher.start()

    def _apply(self, snapshot: DepthSnapshot) -> None:
        sync = self._sync
        first, buffered, dropped = sync.first_buffered, sync.buffered, sync.stats.dropped
        try:
            verdict = sync.on_snapshot(snapshot)
        except BookGap as exc:
            self._on_gap(f"buffered events do not continue snapshot {snapshot.lastUpdateId}: {exc}")
            return
        if verdict is SnapshotVerdict.STALE:
            self._refetch_at = self._clock.monotonic() + min(5.0, 0.25 * 2**self._stale)
            self._stale += 1
            log.info(
                "snapshot lastUpdateId=%d is older than the first buffered U=%s; fetching again",
                snapshot.lastUpdateId,
                first,
            )
        elif verdict is SnapshotVerdict.ACCEPTED:
            self._stale = 0
            log.info(
                "synced %s at snapshot lastUpdateId=%d: %d events buffered, %d dropped, u=%d",
                self._symbol,
                snapshot.lastUpdateId,
                buffered,
                sync.stats.dropped - dropped,
                sync.update_id,
            )
