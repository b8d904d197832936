"""Writer: receives every collector's snapshots, validates them and stores them durably.

One thread, one loop (STYLE: ``while not stop``, every wait ≤ 0.2 s): drain the SUB and the
backfill ROUTER, queue validated records, write a WAL-synced batch once the oldest queued record
is ``flush_interval`` old (or a batch is full), and only then log each ``Stored snapshot for ...``
line. A failed write keeps the records queued, drops the database handle and reopens it with
backoff; the collectors' buffers fill any second that was missed on the way in.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import zmq

from shared import heap, storage
from shared.backfill import Hello
from shared.clock import Clock, SystemClock
from shared.lifecycle import StopFlag
from shared.security import SocketSecurity
from shared.sessions import SessionGate
from writer.backfill import BackfillRecord, BackfillServer
from writer.columns import validate_messages
from writer.config import WriterConfig
from writer.gaps import Gap, GapDetector, fetch_ranges, find_holes
from writer.pending import Record
from writer.persister import Persister
from writer.retention import RetentionSchedule
from writer.startup import DatabaseUnusable, open_at_start
from writer.status import RejectLog, WriterStatus
from writer.store import SnapshotStore
from writer.subscriber import SnapshotSubscriber
from writer.validate import Limits, Rejected, validate_record

log = logging.getLogger(__name__)

MAX_POLL = 0.2  # seconds; bounds how late a stop request or a flush deadline is noticed
SUMMARY_INTERVAL = 10.0  # seconds between aggregated reject / drop reports
# Seconds between returns of the C heap's free pages to the kernel: freed memtable blocks stay in
# the heap otherwise, and the writer grew with every flush (shared/heap.py). ~1.5 ms a time.
GIVE_BACK_INTERVAL = 60.0
DRAIN_QUIET = 0.1  # at shutdown, stop draining the SUB once nothing came for this long


class Writer:
    """The writer process: subscriber + backfill server → validation, gaps → persister."""

    def __init__(
        self,
        config: WriterConfig,
        *,
        store: SnapshotStore,
        subscriber: SnapshotSubscriber,
        backfill: BackfillServer,
        clock: Clock,
        context: zmq.Context[zmq.Socket[bytes]] | None = None,
        security: SocketSecurity | None = None,
    ) -> None:
        self.security = security
        self.config = config
        self.store = store
        self.subscriber = subscriber
        self.backfill = backfill
        self.clock = clock
        self._context = context  # owned (terminated at the end) when given
        self.limits = Limits(max_age=config.max_age, max_ahead=config.max_ahead)
        self.gaps = GapDetector()
        self.sessions = SessionGate()
        self._symbols = frozenset(config.symbols)
        self.status = WriterStatus(started=clock.now(), pid=os.getpid())
        self.persister = Persister(config, store, self.status, clock)
        self.rejects = RejectLog(self.status, SUMMARY_INTERVAL)
        self.retention = RetentionSchedule(config.retention_seconds, config.retention_interval)
        self._next_status = 0.0
        self._next_summary = 0.0
        self._next_give_back = 0.0
        # New symbols whose first record came live: what their collector buffered before that
        # (the writer was not there yet, or the slow joiner lost it) is fetched at its hello.
        self._first_live: dict[str, int] = {}
        self.on_status: Callable[[], None] | None = None  # metrics sampling (writer/metrics.py)

    @classmethod
    def from_config(cls, config: WriterConfig, clock: Clock | None = None) -> Writer:
        """Build the real parts; the sockets bind at once, so records queue while the DB opens."""
        context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        security = SocketSecurity.from_options(context, "writer", config.keys_dir, config.insecure)
        try:
            subscriber = SnapshotSubscriber(context, config.ingest_endpoint, security)
            backfill = BackfillServer(
                context, config.backfill_endpoint, config.fetch_timeout, security
            )
        except BaseException:
            security.stop()
            context.destroy(linger=0)
            raise
        return cls(
            config,
            store=SnapshotStore(config.db_path),
            subscriber=subscriber,
            backfill=backfill,
            clock=clock or SystemClock(),
            context=context,
            security=security,
        )

    # --- the loop -------------------------------------------------------------------------------

    def run(self, stop: StopFlag) -> None:
        """Serve until ``stop``; then flush everything received and close the database."""
        try:
            ready = self._open_until_ready(stop)
        except DatabaseUnusable:
            self._close_sockets()
            raise
        if not ready:
            # Nothing was received yet, so there is nothing to flush: only the sockets to close.
            log.info("Stopped before the database could be opened")
            self._close_sockets()
            return
        log.info(
            "Writer ready: SUB %s, backfill ROUTER %s, database %s",
            self.subscriber.endpoint,
            self.backfill.endpoint,
            self.config.db_path,
        )
        poller = zmq.Poller()
        poller.register(self.subscriber.socket, zmq.POLLIN)
        poller.register(self.backfill.socket, zmq.POLLIN)
        try:
            while not stop:
                poller.poll(int(self._poll_timeout() * 1000))
                self.step()
        finally:
            self._shutdown()

    def step(self) -> None:
        """One turn of the loop: receive, fetch, write, reopen, housekeeping."""
        self._ingest(self.subscriber.drain())
        self._on_backfill(self.backfill.receive(self.clock.now()))
        monotonic = self.clock.monotonic()
        self.backfill.pump(monotonic)
        self.persister.flush()
        self.persister.reopen_if_due()
        if self.store.is_open and self.retention.due(monotonic):
            self.retention.run(self.store, self.clock.now(), monotonic)
        if monotonic >= self._next_status:
            self._write_status()
            self._next_status = monotonic + self.config.status_interval
        if monotonic >= self._next_summary:
            self.persister.report_drops()
            self.rejects.flush(monotonic)
            if self.security is not None:
                self.security.tick()
            self._next_summary = monotonic + SUMMARY_INTERVAL
        if monotonic >= self._next_give_back:
            heap.give_back()
            self._next_give_back = monotonic + GIVE_BACK_INTERVAL

    def _poll_timeout(self) -> float:
        due_in = self.persister.due_in()
        return MAX_POLL if due_in is None else min(MAX_POLL, max(0.0, due_in))

    # --- receiving ------------------------------------------------------------------------------

    def _ingest(self, messages: list[list[bytes]]) -> None:
        if not messages:
            return
        now, monotonic = self.clock.now(), self.clock.monotonic()
        limits, gaps, queue = self.limits, self.gaps, self.persister.queue
        for record in validate_messages(messages, now, limits, monotonic):
            if isinstance(record, Rejected):
                self.rejects.reject(record.reason, record.detail, monotonic)
                continue
            last = gaps.last_second(record.symbol)
            if not self._admit(record, monotonic, last):
                continue
            if last is None:
                self._first_live[record.symbol] = record.second
            gap = gaps.observe(record.symbol, record.second, record.session, record.seq)
            if gap is not None:
                self._on_gap(gap)
            queue(record)

    def _admit(self, record: Record, monotonic: float, last: int | None) -> bool:
        """Whether a valid record may be stored: a configured symbol, the session that speaks for
        it (``writer/sessions.py``), and never over a second stored from another session.

        ``last``: the newest second accepted of its symbol before it (``GapDetector``)."""
        symbol, second, session = record.symbol, record.second, record.session
        if symbol not in self._symbols:
            self.rejects.reject("symbols", f"{symbol} is not a configured symbol", monotonic)
            return False
        if not self.sessions.admit(symbol, session, second, monotonic):
            self.rejects.reject(
                "session",
                f"{symbol} {second} from session {session}; session "
                f"{self.sessions.session(symbol)} speaks for {symbol}",
                monotonic,
            )
            return False
        if last is not None and second <= last:  # possibly stored or queued already
            queued = self.persister.pending.get(symbol, second)
            other = queued.session if queued is not None else self._stored_session(symbol, second)
            if other is not None and other != session:
                self.rejects.reject(
                    "session", f"{symbol} {second} is stored from session {other}", monotonic
                )
                return False
        return True

    def _stored_session(self, symbol: str, second: int) -> int | None:
        return self.store.stored_session(symbol, second) if self.store.is_open else None

    def _on_backfill(self, events: list[Hello | BackfillRecord | str]) -> None:
        now, monotonic = self.clock.now(), self.clock.monotonic()
        for event in events:
            if isinstance(event, str):
                if event:
                    self.rejects.reject("backfill", event, monotonic)
            elif isinstance(event, Hello):
                self._on_hello(event)
            else:
                self._on_backfill_record(event, now, monotonic)

    def _on_hello(self, hello: Hello) -> None:
        if hello.last == 0:
            return
        if hello.symbol not in self._symbols:
            self.rejects.reject(
                "symbols",
                f"hello of {hello.symbol}: not a configured symbol",
                self.clock.monotonic(),
            )
            return
        if self.sessions.session(hello.symbol) not in (None, hello.session):
            return  # not the session that speaks for the symbol: nothing is fetched from it
        counters = self.status.symbol(hello.symbol)
        counters.checks, counters.mismatches = hello.checks, hello.mismatches
        first_live = self._first_live.pop(hello.symbol, None)
        if self.gaps.last_second(hello.symbol) is None or first_live is not None:
            # A symbol this database has never stored: take whatever its collector buffered
            # before the writer saw its first record.
            last = hello.last if first_live is None else first_live - 1
            if hello.first and hello.first <= last:
                log.info(
                    "%s: new symbol; fetching the collector's buffered seconds %d..%d",
                    hello.symbol,
                    hello.first,
                    last,
                )
                for first, end in fetch_ranges(Gap(hello.symbol, hello.first, last), 0):
                    self.backfill.want(hello.symbol, first, end)
            self.gaps.advance(hello.symbol, last)
        gap = self.gaps.behind(hello.symbol, hello.last)
        if gap is not None:
            log.warning(
                "%s: the collector's buffer reaches second %d, the writer only %d",
                hello.symbol,
                hello.last,
                gap.first - 1,
            )
            self._on_gap(gap)

    def _on_backfill_record(self, event: BackfillRecord, now: float, monotonic: float) -> None:
        try:
            book, trades = event.frames
            record = validate_record(book, trades, now, self.limits, monotonic, backfilled=True)
            if record.symbol != event.symbol:
                raise Rejected("backfill", f"peer {event.symbol} sent a {record.symbol} record")
            if event.fetched is None or not event.fetched[0] <= record.second <= event.fetched[1]:
                raise Rejected("backfill", f"unrequested {record.symbol} second {record.second}")
        except Rejected as rejected:
            self.rejects.reject(rejected.reason, rejected.detail, monotonic)
            return
        if not self._admit(record, monotonic, self.gaps.last_second(record.symbol)):
            return
        self.gaps.advance(record.symbol, record.second)
        self.persister.queue(record)

    def _on_gap(self, gap: Gap) -> None:
        if gap.seconds > 0:
            log.warning(
                "%s: missed %d seconds %d..%d (%d sequence numbers lost); fetching them",
                gap.symbol,
                gap.seconds,
                gap.first,
                gap.last,
                gap.lost_seq,
            )
        else:
            log.warning("%s: %d sequence numbers lost, no second missing", gap.symbol, gap.lost_seq)
        self.status.gap(gap.symbol, gap.seconds)
        oldest = int(self.clock.now()) - self.limits.max_age
        for first, last in fetch_ranges(gap, oldest):
            self.backfill.want(gap.symbol, first, last)
        # These seconds are accounted for (asked for), so a later record does not re-report them.
        self.gaps.advance(gap.symbol, gap.last)

    def _open_until_ready(self, stop: StopFlag) -> bool:
        """Open the database at start-up, seed the gap detector, look for recent holes.

        False when a stop came before the database could be opened.
        """
        opened = open_at_start(self.store)  # DatabaseUnusable if it can never open: exit 1
        if not opened and not self.persister.open_until_ready(
            lambda: bool(stop), lambda s: self._sleep(stop, s)
        ):
            return False
        self.status.store_state = "ok"
        for symbol in self.store.known_symbols():
            last = self.store.last_second(symbol)
            self.gaps.seed(symbol, last)
            self.status.symbol(symbol).last_stored = last
            if last is not None:
                self._find_holes(symbol, last)
            log.info("%s: last stored second %s", symbol, last)
        return True

    def _find_holes(self, symbol: str, last: int) -> None:
        """Queue fetches of seconds missing in the recent past (e.g. a backfill cut short by a
        crash); only the last ``hole_window`` seconds, which collectors may still buffer."""
        seconds = self.store.seconds(symbol, last - self.config.hole_window, last)
        for gap in find_holes(symbol, seconds):
            log.warning(
                "%s: seconds %d..%d are missing; fetching them", symbol, gap.first, gap.last
            )
            self.status.gap(symbol, gap.seconds)
            for first, end in fetch_ranges(gap, int(self.clock.now()) - self.limits.max_age):
                self.backfill.want(symbol, first, end)

    def _sleep(self, stop: StopFlag, seconds: float) -> None:
        deadline = self.clock.monotonic() + seconds
        while not stop and self.clock.monotonic() < deadline:
            self.clock.sleep(min(MAX_POLL, deadline - self.clock.monotonic()))

    # --- housekeeping ---------------------------------------------------------------------------

    def _write_status(self) -> None:
        record = self.status.encode(
            self.clock.now(),
            len(self.persister.pending),
            self.backfill.pending_ranges(),
            self.backfill.unrecoverable,
        )
        self.persister.put_meta(storage.STATUS_KEY, record)
        if self.on_status is not None:
            self.on_status()

    def _shutdown(self) -> None:
        """Flush what was received, close the database, then the sockets (reverse of set-up)."""
        deadline = self.clock.monotonic() + self.config.shutdown_budget
        log.info("Stopping: draining the sockets, then flushing")
        # Take in what is still arriving (a collector's last records) until the line is quiet.
        quiet_until = self.clock.monotonic() + DRAIN_QUIET
        while self.clock.monotonic() < min(quiet_until, deadline - 1.0):
            if self.subscriber.socket.poll(int(DRAIN_QUIET * 1000), zmq.POLLIN):
                self._ingest(self.subscriber.drain())
                quiet_until = self.clock.monotonic() + DRAIN_QUIET
        log.info("Flushing %d queued records", len(self.persister.pending))
        self.persister.final_flush()
        self.status.store_state = "stopped"
        self._write_status()
        self.rejects.flush(self.clock.monotonic(), force=True)
        self.persister.report_drops()
        self.persister.close()
        self._close_sockets()

    def _close_sockets(self) -> None:
        self.subscriber.close()
        self.backfill.close()
        if self.security is not None:
            self.security.stop()
        if self._context is not None:
            self._context.term()
        log.info("Sockets closed; writer stopped")
