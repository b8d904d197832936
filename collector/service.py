"""Collector: one symbol's feed, book, seconds, publisher and backfill, driven by one loop."""

from __future__ import annotations

import logging
from pathlib import Path

import orjson
import zmq

from collector.backfill import BackfillServer, RecordBuffer
from collector.budget import HostBudget, default_budget_file
from collector.config import CollectorConfig
from collector.depth import first_limit
from collector.feed import ACTIVE, STANDBY, Feed, Frame
from collector.handover import HeldFrames
from collector.liveness import Liveness
from collector.metrics import CollectorMetrics
from collector.outbox import Outbox
from collector.publisher import SnapshotPublisher
from collector.recorder import Recorder
from collector.rest import RestGate, SnapshotFetcher
from collector.resync import Resync
from collector.seconds import Capture, SecondAssembler
from collector.selfcheck import SelfCheck
from collector.summary import Counters
from collector.sync import BookSync, Phase
from collector.wire import (
    AggTrade,
    BookTicker,
    DepthUpdate,
    MalformedFrame,
    Message,
    ServerShutdown,
    cached_numbers,
    parse_frame,
)
from shared.clock import Clock, SystemClock
from shared.errors import BookGap
from shared.lifecycle import StopFlag
from shared.model import Trade
from shared.security import SocketSecurity

log = logging.getLogger(__name__)

LOOP_TIMEOUT = 0.5  # s: the longest any call in the loop may block


class Collector:
    """Keeps one symbol's book in sync and publishes a record every second it is synced."""

    def __init__(
        self,
        config: CollectorConfig,
        *,
        clock: Clock,
        feed: Feed,
        fetcher: SnapshotFetcher,
        publisher: SnapshotPublisher,
        backfill: BackfillServer,
        buffer: RecordBuffer,
        session: int,
    ) -> None:
        self.config = config
        self.symbol = config.symbol
        self._clock = clock
        self._feed = feed
        self._fetcher = fetcher
        self._publisher = publisher
        self._backfill = backfill
        self.session = session
        self.sync = BookSync(buffer_cap=config.event_buffer)
        self._seconds = SecondAssembler(clock.now(), config.trade_grace)
        self._last_trade_id = -1
        # The first second whose trades this connection saw whole: the second after the exchange
        # time of its first event (None until then). A connection that began during a second
        # missed that second's earlier trades, so that second gets no record (handovers overlap
        # two connections, so they keep it).
        self._trades_from: int | None = None
        # Ping only when the record would be sent (after the trade grace) and nothing vouched.
        ping_wait = min(max(0.0, config.trade_grace - config.ping_after), config.pong_timeout / 2)
        self._liveness = Liveness(config.ping_after, config.pong_timeout, ping_wait)
        self._check = SelfCheck(config.selfcheck_every, config.selfcheck_window)
        self._requests = 0  # control request ids
        self._checks_reported = 0  # self-check comparisons up to the last summary line
        self._held = HeldFrames(clock, config.handover_timeout)  # from a handover connection
        self._counters = Counters()
        self.metrics: CollectorMetrics | None = None  # Prometheus, when the supervisor exports
        self._recorder = Recorder(
            config.symbol,
            session,
            levels=config.levels,
            live_levels=config.live_levels,
            live_interval=config.live_interval,
            publisher=publisher,
            buffer=buffer,
            backfill=backfill,
            clock=clock,
            counters=self._counters,
        )
        # Records wait there (in order) until the connection vouches for their second.
        self._outbox = Outbox(self._liveness, self._recorder, self._seconds, self._counters)
        self._idle_until = 0.0  # wall time before which _keep_time has nothing to do
        self._next_summary = clock.monotonic() + config.summary_interval
        self._last_reconnects = 0
        self._snapshots = Resync(
            config.symbol,
            sync=self.sync,
            fetcher=fetcher,
            clock=clock,
            counters=self._counters,
            on_gap=self._resync,
            probe_interval=max(5.0, config.watchdog_seconds),
            limit=first_limit(config.levels, config.snapshot_depth),
            max_limit=config.snapshot_depth,
        )

    @classmethod
    def from_config(
        cls,
        config: CollectorConfig,
        context: zmq.Context[zmq.Socket[bytes]],
        clock: Clock | None = None,
    ) -> Collector:
        """Build the real components (sockets connect here; the feed connects in the loop)."""
        clock = clock or SystemClock()
        # Collectors only connect, so they never need --insecure; with keys they authenticate.
        security = SocketSecurity.from_options(context, "collector", config.keys_dir, False)
        session = int(clock.now() * 1_000_000_000)
        buffer = RecordBuffer(config.buffer_seconds)
        budget_file = config.rest_budget_file or default_budget_file(config.rest_url)
        shared = HostBudget(Path(budget_file), config.rest_weight_budget, clock)
        gate = RestGate(clock, 0, config.rest_weight_budget, shared=shared)  # cost: by limit
        return cls(
            config=config,
            clock=clock,
            feed=Feed(
                config.stream_url,
                clock,
                watchdog=config.watchdog_seconds,
                max_age=config.max_connection_age,
                backoff_min=config.reconnect_min,
                backoff_max=config.reconnect_max,
            ),
            fetcher=SnapshotFetcher(config.depth_url, gate, config.rest_timeout),
            publisher=SnapshotPublisher(
                context,
                [("ingest", config.ingest_endpoint), ("live", config.live_endpoint)],
                config.send_hwm,
                security,
            ),
            backfill=BackfillServer(
                context,
                endpoint=config.backfill_endpoint,
                symbol=config.symbol,
                session=session,
                buffer=buffer,
                clock=clock,
                hello_interval=config.hello_interval,
                hwm=config.buffer_seconds + 16,
                security=security,
            ),
            buffer=buffer,
            session=session,
        )

    def run(self, stop: StopFlag) -> None:
        """Loop until ``stop``; every blocking call inside has a timeout of at most 0.5 s."""
        log.info("collecting %s from %s (session %d)", self.symbol, self._feed.url, self.session)
        try:
            while not stop:
                self.step()
        finally:
            self.close()

    def step(self) -> None:
        """One turn of the loop: receive, keep time, resync, publish, answer backfill."""
        deadline = min(self._seconds.next_deadline(), self._liveness.next_deadline())
        wait = min(LOOP_TIMEOUT, max(0.0, deadline - self._clock.now()))
        liveness = self._liveness
        for frame in self._feed.poll(wait):
            self._keep_time()  # capture a boundary before the frame that follows it
            if frame.source == ACTIVE:
                liveness.on_frame(frame.recv_ms / 1000)
            self._on_frame(frame)
        for payload in self._feed.take_pongs():
            liveness.on_pong(payload)
        if self._feed.lost:
            self._feed.lost = False
            self._trades_from = None
            liveness.connection_changed()
            self._check.connection_changed()
            self._invalidate("connection lost")
        self._keep_time()
        self._sample_tickers()
        ping = liveness.ping(self._clock.now())
        if ping is not None:
            self._feed.ping(ping)
        self._handover()
        self._snapshots.tend_horizon(self.config.levels)
        self._snapshots.poll()
        self._recorder.live(self.sync)
        self._backfill.checks, self._backfill.mismatches = (
            self._check.checks,
            self._check.mismatches,
        )
        self._backfill.poll()
        self._summary()

    def close(self) -> None:
        """Close in reverse order of setup."""
        log.info("stopping: closing the WebSocket, backfill and publisher sockets")
        self._feed.close()
        self._backfill.close()
        self._publisher.close()

    # --- frames ---------------------------------------------------------------------------------

    def _on_frame(self, frame: Frame) -> None:
        try:
            message = parse_frame(frame.text)
            if (
                isinstance(message, (DepthUpdate, AggTrade, BookTicker))
                and message.s != self.symbol
            ):
                raise MalformedFrame(f"event for {message.s!r} on the {self.symbol} stream")
        except MalformedFrame as exc:
            self._counters.malformed += 1
            if self._counters.should_log_malformed():
                log.error("dropped a malformed frame (%s): %.120r", exc, frame.text)
            return
        if frame.source == STANDBY:
            self._held.hold(message, frame.recv_ms)
            return
        self._on_message(message, frame.recv_ms)

    def _on_message(self, message: Message, recv_ms: int) -> None:
        if isinstance(message, (DepthUpdate, AggTrade)) and self._trades_from is None:
            self._trades_from = message.E // 1000 + 1
            log.info(
                "first event of this connection at E=%d: trades complete from second %d",
                message.E,
                self._trades_from,
            )
        if isinstance(message, DepthUpdate):
            try:
                if self.sync.on_event(message, recv_ms):
                    self._counters.events += 1
                    self._counters.observe_lag(recv_ms - message.E)
                    if self._check.waiting:
                        self._checked(self._check.on_book(self.sync))
            except BookGap as exc:
                self._resync(str(exc))
            self._snapshots.on_event(message, recv_ms)
        elif isinstance(message, BookTicker):
            self._checked(self._check.on_ticker(message, self.sync))
        elif isinstance(message, AggTrade):
            if message.a <= self._last_trade_id:
                return  # a duplicate from an overlapping connection
            self._last_trade_id = message.a
            trade = Trade(message.a, message.p, message.q, message.T, message.m)
            if self._seconds.add_trade(trade):
                self._counters.trades += 1
        elif isinstance(message, ServerShutdown):
            self._start_handover("the server announced serverShutdown")

    def _resync(self, reason: str) -> None:
        self._counters.resyncs += 1
        if self.metrics is not None:
            self.metrics.resync(reason)
        log.warning("book invalid: %s; resyncing (buffering events, fetching a snapshot)", reason)

    def _sample_tickers(self) -> None:
        """Open or close a self-check window (SUBSCRIBE/UNSUBSCRIBE on the active connection)."""
        action = self._check.action(self._clock.monotonic(), self.sync.synced)
        if action is None:
            return
        self._requests += 1
        method = "SUBSCRIBE" if action == "subscribe" else "UNSUBSCRIBE"
        request = {"method": method, "params": [self.config.ticker_stream], "id": self._requests}
        self._feed.send(orjson.dumps(request).decode())
        log.info("self-check: %s %s", method.lower(), self.config.ticker_stream)

    def _checked(self, mismatch: str | None) -> None:
        if mismatch is None:
            return
        self._counters.mismatches += 1
        log.error("self-check mismatch: %s; resyncing", mismatch)
        self._invalidate(f"self-check mismatch at u={self.sync.update_id}")

    def _invalidate(self, reason: str) -> None:
        had_book = self.sync.phase is not Phase.BUFFERING or self.sync.buffered > 0
        self.sync.reset()
        self._check.reset()
        self._held.clear()
        if had_book:
            self.sync.stats.gaps += 1
            self._resync(reason)

    # --- time -----------------------------------------------------------------------------------

    def _keep_time(self) -> None:
        now = self._clock.now()
        if now < self._idle_until:
            return  # before the next boundary and the next send time, with nothing queued
        seconds = self._seconds
        if seconds.boundary_due(now):
            skipped = self._seconds.on_boundary(now, self._capture)
            if self.metrics is not None:
                self.metrics.tick(
                    self.sync,
                    self._feed.reconnects,
                    self._recorder.seq,
                    (self._check.checks, self._check.mismatches),
                )
            if skipped:
                log.warning("loop held up: %d seconds were not observed, no record", skipped)
        outbox = self._outbox
        outbox.release(seconds.completed(now), now)
        # Until then a look finds nothing to do: it is called ~30 times a second, and the full
        # look measured ~10 µs of CPU a call (cold caches), the test ~1 µs.
        self._idle_until = (
            0.0 if outbox.waiting else min(seconds.next_boundary, seconds.next_deadline())
        )

    def _capture(self, second: int) -> Capture | None:
        if self._trades_from is None or second < self._trades_from:
            # The book may be exact, but the second's trades began before this connection did:
            # no record rather than one whose trades are incomplete.
            if self.sync.synced:
                self._counters.partial += 1
            return None
        if self.sync.synced and not self._within_horizon():
            return None
        # The record waits until the connection vouches for the second (collector/liveness.py).
        capture = self._recorder.capture(self.sync, second)
        if capture is not None:
            self._liveness.expect(second)
        return capture

    def _within_horizon(self) -> bool:
        """Are a record's levels inside the prices the snapshot vouches for (collector/depth.py)?
        If not, the book cannot give an exact record: resync, with a deeper snapshot."""
        if self._snapshots.within_horizon(self.config.levels):
            return True
        self._counters.beyond_depth += 1
        self._invalidate("the best levels moved past the snapshot's depth")
        return False

    # --- snapshots and handovers ----------------------------------------------------------------

    def _start_handover(self, reason: str) -> None:
        if self._feed.standby is None:
            self._feed.start_handover(reason)
            self._held.begin()

    def _handover(self) -> None:
        feed = self._feed
        if feed.needs_handover():
            self._start_handover("the connection reached its maximum age")
        if feed.standby is None:
            self._held.clear()
        elif self._held.ready(self.sync.synced, self.sync.update_id):
            feed.promote()
            self._liveness.connection_replaced()
            self._check.connection_changed()
            for message, recv_ms in self._held.take():
                self._on_message(message, recv_ms)

    def _summary(self) -> None:
        now = self._clock.monotonic()
        if now < self._next_summary:
            return
        self._next_summary = now + self.config.summary_interval
        c = self._counters
        c.reconnects = self._feed.reconnects - self._last_reconnects
        c.checks = self._check.checks - self._checks_reported
        self._last_reconnects = self._feed.reconnects
        seconds = self._seconds
        extra = (
            f"u={self.sync.update_id} seq={self._recorder.seq} late_trades={seconds.late_trades} "
            f"unrecorded_trades={seconds.unrecorded_trades} "
            f"pings={self._liveness.pings} pongs={self._liveness.pongs} "
            f"depth_limit={self._snapshots.limit} refreshes={self._snapshots.refreshes} "
            f"skipped_seconds={seconds.skipped_seconds} number_cache={cached_numbers()}"
        )
        log.info(c.line(self.config.summary_interval, self.sync.synced, extra))
        c.reset()
        self._checks_reported = self._check.checks
