"""Resync: when to ask for a REST snapshot, and what to do with the one that comes back."""

from __future__ import annotations

import logging
from collections.abc import Callable

from collector.config import depth_weight
from collector.depth import ESCALATE_WITHIN, Horizon, horizon_of, inside, next_limit
from collector.rest import SnapshotFetcher
from collector.summary import Counters
from collector.sync import BookSync, Phase, SnapshotVerdict
from collector.wire import DepthSnapshot, DepthUpdate
from shared.clock import Clock
from shared.errors import BookGap

log = logging.getLogger(__name__)

MAX_PROBE_INTERVAL = 300.0  # s between probes of a symbol that stays silent


class Resync:
    """Feeds BookSync the snapshots it needs, without ever blocking the loop.

    - A snapshot is requested once an event is buffered (Binance's procedure), whenever the gate
      in ``SnapshotFetcher`` allows (Retry-After, weight budget, the host's bucket, backoff).
    - A stale snapshot is fetched again, a little later each time, so a lagging REST cache is
      not hammered.
    - With nothing buffered (an unknown or silent symbol) a request still goes now and then as a
      probe, so that REST errors such as -1121 "Invalid symbol" reach the log; the probes back
      off (x2 each, up to ``MAX_PROBE_INTERVAL``), so hundreds of quiet symbols do not spend
      the host's REST weight on snapshots they cannot use yet. A probe's snapshot is kept and
      tried first once an event is buffered (Binance's checks decide, as for any snapshot), so
      a quiet symbol usually syncs with the snapshot its probe already paid for.
    - A *refresh* (the book nears its snapshot's horizon, ``collector/depth.py``) syncs a second
      book from a new snapshot beside the live one, fed the same events; once both stand at the
      same update id the new one replaces the old, and no second goes unrecorded.
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
        limit: int,
        max_limit: int,
    ) -> None:
        self._symbol = symbol
        self._sync = sync
        self._fetcher = fetcher
        self._clock = clock
        self._counters = counters
        self._on_gap = on_gap
        self._base_probe_interval = probe_interval
        self._probe_interval = probe_interval
        self._next_probe = clock.monotonic() + 2.0
        self._stale = 0  # stale snapshots in a row
        self._refetch_at = 0.0  # monotonic: no request before this
        self._max_limit = max_limit
        self._accepted_at = -ESCALATE_WITHIN  # monotonic time of the last snapshot taken
        self.shadow: BookSync | None = None  # a refreshed book being synced beside the live one
        self.refreshes = 0  # books replaced by a refreshed one
        self._held: tuple[DepthSnapshot, int] | None = None  # a probe's snapshot and its limit
        self._shadow_held: tuple[DepthSnapshot, int] | None = None  # a refresh's, likewise
        self._horizon_limit = limit  # the limit the live book's snapshot was asked with
        self._tended: tuple[int, Horizon, int] | None = None  # the state tend_horizon last saw
        self._shadow_limit = limit
        fetcher.set_limit(limit, depth_weight(limit))

    @property
    def limit(self) -> int:
        return self._fetcher.limit

    def on_event(self, event: DepthUpdate, recv_ms: int) -> None:
        """The refreshed book takes the same events as the live one."""
        shadow = self.shadow
        if shadow is None:
            return
        try:
            shadow.on_event(event, recv_ms)
        except BookGap as exc:
            log.info("refresh abandoned: %s", exc)
            self.shadow = None

    def refresh(self, reason: str) -> None:
        """Sync a new snapshot beside the live book (if one is not already under way)."""
        if self.shadow is not None or not self._sync.synced:
            return
        if self._clock.monotonic() - self._accepted_at < ESCALATE_WITHIN:
            self._deepen()
        log.info("refreshing the book with a %d-level snapshot: %s", self.limit, reason)
        self.shadow = BookSync(buffer_cap=self._sync.buffer_cap)
        self._shadow_held = None

    def within_horizon(self, levels: int) -> bool:
        """Are the best ``levels`` of each side inside the horizon? If not (the book moved past
        it before a refresh landed), the next snapshot asks for more levels."""
        sync = self._sync
        if inside(*sync.book.last_of_top(levels), sync.horizon):
            return True
        self._deepen()
        return False

    def tend_horizon(self, levels: int) -> None:
        """Refresh the book while a margin of levels is still inside the horizon: half of what
        the snapshot holds beyond a record's levels (at least as many again), so a fast market
        leaves the refresh time to land (e.g. 60 of 100 levels, 260 of 500)."""
        sync = self._sync
        if self.shadow is not None or not sync.synced:
            return
        # Nothing to look at unless the book or its horizon changed since the last look (the
        # loop turns ~30 times a second; the book changes at most 10 times).
        state = (sync.update_id, sync.horizon, self._horizon_limit)
        if state == self._tended:
            return
        self._tended = state
        margin = max(2 * levels, (self._horizon_limit + levels) // 2)
        if not inside(*sync.book.last_of_top(margin), sync.horizon):
            self.refresh("the best levels near the snapshot's depth")

    def poll(self) -> None:
        """Take a finished request's outcome, and start the next request when one is due."""
        sync = self._sync
        if self.shadow is not None and sync.phase is Phase.BUFFERING:
            self.shadow = None  # the live book is gone: a plain resync follows
        outcome = self._fetcher.take()
        if outcome is not None:
            self._counters.snapshots += 1
            if outcome.snapshot is None:
                log.error("REST snapshot failed: %s", outcome.error)
            elif sync.phase is Phase.BUFFERING and not sync.buffered:
                self._held = (outcome.snapshot, self.limit)  # nothing to check it with yet
            elif sync.phase is Phase.BUFFERING:
                self._apply(outcome.snapshot, self.limit)
            elif self.shadow is not None:
                self._apply_refresh(outcome.snapshot, self.limit)
        self._swap()
        if self._fetcher.busy:
            return
        now = self._clock.monotonic()
        target = sync if sync.phase is Phase.BUFFERING else self.shadow
        if target is None or target.phase is not Phase.BUFFERING:
            return
        if target.buffered:
            if target is sync and self._held is not None:
                held, self._held = self._held, None
                if self._apply(*held, refetch_delay=False):
                    return
            if target is not sync and self._shadow_held is not None:
                held, self._shadow_held = self._shadow_held, None
                self._apply_refresh(*held)
                return
            if now >= self._refetch_at:
                self._fetcher.try_start()
        elif target is not sync:
            # A refresh asks at once: its events buffer while the request is out.
            if self._shadow_held is None and now >= self._refetch_at:
                self._fetcher.try_start()
        elif target is sync and now >= self._next_probe and self._fetcher.try_start():
            self._next_probe = now + self._probe_interval
            self._probe_interval = min(MAX_PROBE_INTERVAL, 2 * self._probe_interval)

    def _apply(self, snapshot: DepthSnapshot, limit: int, refetch_delay: bool = True) -> bool:
        """Offer a snapshot to the book; True when it took it."""
        sync = self._sync
        first, buffered, dropped = sync.first_buffered, sync.buffered, sync.stats.dropped
        try:
            verdict = sync.on_snapshot(snapshot)
        except BookGap as exc:
            self._on_gap(f"buffered events do not continue snapshot {snapshot.lastUpdateId}: {exc}")
            return False
        if verdict is SnapshotVerdict.STALE and refetch_delay:
            self._stale_again(snapshot, first)
        elif verdict is SnapshotVerdict.ACCEPTED:
            self._stale = 0
            self._accepted_at = self._clock.monotonic()
            self._probe_interval = self._base_probe_interval
            sync.horizon = horizon_of(snapshot.bids, snapshot.asks, limit)
            self._horizon_limit = limit
            log.info(
                "synced %s at snapshot lastUpdateId=%d (%d levels asked): %d events buffered, "
                "%d dropped, u=%d",
                self._symbol,
                snapshot.lastUpdateId,
                limit,
                buffered,
                sync.stats.dropped - dropped,
                sync.update_id,
            )
        return sync.phase is not Phase.BUFFERING

    def _apply_refresh(self, snapshot: DepthSnapshot, limit: int) -> None:
        shadow = self.shadow
        assert shadow is not None
        if shadow.phase is not Phase.BUFFERING:
            return
        if not shadow.buffered:
            self._shadow_held = (snapshot, limit)  # checked once an event is buffered
            return
        first = shadow.first_buffered
        try:
            verdict = shadow.on_snapshot(snapshot)
        except BookGap as exc:
            log.info("refresh abandoned: %s", exc)
            self.shadow = None
            return
        if verdict is SnapshotVerdict.STALE:
            self._stale_again(snapshot, first)
        elif verdict is SnapshotVerdict.ACCEPTED:
            self._stale = 0
            self._accepted_at = self._clock.monotonic()
            shadow.horizon = horizon_of(snapshot.bids, snapshot.asks, limit)
            self._shadow_limit = limit

    def _swap(self) -> None:
        shadow = self.shadow
        if shadow is None or not shadow.synced or shadow.update_id != self._sync.update_id:
            return
        self._sync.adopt(shadow)
        self._horizon_limit = self._shadow_limit
        self.shadow = None
        self.refreshes += 1
        log.info("refreshed the book at u=%d: no second lost", self._sync.update_id)

    def _stale_again(self, snapshot: DepthSnapshot, first: int | None) -> None:
        self._refetch_at = self._clock.monotonic() + min(5.0, 0.25 * 2**self._stale)
        self._stale += 1
        log.info(
            "snapshot lastUpdateId=%d is older than the first buffered U=%s; fetching again",
            snapshot.lastUpdateId,
            first,
        )

    def _deepen(self) -> None:
        limit = next_limit(self.limit, self._max_limit)
        if limit != self.limit:
            log.info("%s moves fast: snapshots of %d levels from now on", self._symbol, limit)
            self._fetcher.set_limit(limit, depth_weight(limit))
