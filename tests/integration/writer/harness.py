"""Real-process helpers for the writer's integration tests.

``FakeCollector`` plays one collector over real ZeroMQ sockets: a PUB that connects to the
writer's SUB, and a DEALER (routing id = symbol) that says hello and serves ``fetch`` requests
from its buffer, following shared/backfill.py.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import msgpack
import zmq

from shared import backfill as proto
from shared import storage
from shared.codec import encode
from tests.integration.writer.recorded import recorded, retimed
from tests.support.logs import stored_in
from tests.support.processes import Proc
from tests.support.seconds import Second
from tests.support.waiting import free_endpoint, poll_for


def series(symbol: str, first: int, count: int, session: int = 1, seq0: int = 1) -> list[Second]:
    """``count`` consecutive seconds from ``first``, books taken from the real recordings."""
    books = recorded(symbol)
    return [retimed(books[i % len(books)], first + i, session, seq0 + i) for i in range(count)]


class WriterProc:
    """``python -m writer`` on free endpoints, logging to ``<tmp>/writer.log``."""

    def __init__(self, tmp: Path, data_dir: Path, *extra: str) -> None:
        self.data_dir = data_dir
        self.ingest = free_endpoint()
        self.backfill = free_endpoint()
        self.log_path = tmp / "writer.log"
        self.extra = list(extra)
        self.proc: Proc | None = None

    def start(self) -> Proc:
        args = [
            "--data-dir",
            str(self.data_dir),
            "--ingest-endpoint",
            self.ingest,
            "--backfill-endpoint",
            self.backfill,
            *self.extra,
        ]
        self.proc = Proc("writer", args, self.log_path).start()
        before = self.log().count("Writer ready")
        self.proc.wait_log("Writer ready", timeout=30, count=before + 1)
        return self.proc

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def logged(self, symbol: str) -> set[int]:
        return stored_in(self.log()).get(symbol, set())

    def wait_stored(self, symbol: str, seconds: set[int], timeout: float = 30.0) -> None:
        poll_for(
            lambda: seconds <= self.logged(symbol),
            timeout,
            what=f"{len(seconds)} stored seconds of {symbol}",
        )


class FakeCollector(threading.Thread):
    """Publishes ``snaps`` every ``interval`` s (skipping ``skip``), buffers all, serves fetches."""

    def __init__(
        self,
        context: zmq.Context,
        writer: WriterProc,
        snaps: list[Second],
        interval: float = 0.02,
        skip: set[int] | frozenset[int] = frozenset(),
        *,
        hello: bool = True,  # False: publish only (no backfill DEALER under the symbol's id)
    ) -> None:
        super().__init__(daemon=True)
        self.hello = hello
        self.context = context
        self.writer = writer
        self.symbol = snaps[0].symbol
        self.snaps = snaps
        self.interval = interval
        self.skip = set(skip)
        self.buffer: dict[int, list[bytes]] = {}  # what the collector's backfill buffer holds
        self.published = 0
        self.fetches: list[tuple[int, int]] = []
        self.stopping = threading.Event()
        self.muted = threading.Event()  # set: records only go to the buffer (a lost connection)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # surfaced by stop()
            self.error = exc

    def _run(self) -> None:
        # XPUB instead of PUB: the same to the writer, but it shows when the writer's
        # subscription has arrived, so no record is lost to the slow joiner (deterministic tests).
        pub = self.context.socket(zmq.XPUB)
        pub.setsockopt(zmq.LINGER, 0)
        pub.setsockopt(zmq.SNDHWM, 0)
        pub.connect(self.writer.ingest)
        if pub.poll(20_000):
            pub.recv()  # b"\x01snap."
        dealer = self.context.socket(zmq.DEALER)
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.setsockopt(zmq.ROUTING_ID, self.symbol.encode())
        if self.hello:  # (a DEALER under the symbol's id would take the id over: HANDOVER)
            dealer.connect(self.writer.backfill)
        next_pub = next_hello = time.monotonic()
        try:
            while not self.stopping.is_set():
                now = time.monotonic()
                if self.published < len(self.snaps) and now >= next_pub:
                    snap = self.snaps[self.published]
                    frames = snap.frames()
                    self.buffer[snap.second] = frames[1:]
                    if snap.second not in self.skip and not self.muted.is_set():
                        pub.send_multipart(frames)
                    self.published += 1
                    next_pub = now + self.interval
                if self.hello and now >= next_hello:
                    self._hello(dealer)
                    next_hello = now + 0.3
                if self.hello and dealer.poll(5):
                    self._serve(dealer, dealer.recv_multipart())
                elif not self.hello:
                    time.sleep(0.005)
        finally:
            pub.close(0)
            dealer.close(0)

    def _hello(self, dealer: zmq.Socket) -> None:
        first, last = (min(self.buffer), max(self.buffer)) if self.buffer else (0, 0)
        hello = proto.Hello(self.symbol, self.snaps[0].session, self.published, first, last)
        dealer.send_multipart([proto.HELLO, encode(hello)])

    def _serve(self, dealer: zmq.Socket, frames: list[bytes]) -> None:
        assert frames[0] == proto.FETCH, frames
        fetch = proto.decode_fetch(frames[1])
        self.fetches.append((fetch.first, fetch.last))
        count = 0
        for second in range(fetch.first, fetch.last + 1):
            if second in self.buffer:
                dealer.send_multipart([proto.RECORD, *self.buffer[second]])
                count += 1
        done = proto.Done(self.symbol, fetch.first, fetch.last, count)
        dealer.send_multipart([proto.DONE, encode(done)])

    def finished(self) -> bool:
        return self.published >= len(self.snaps)

    def stop(self) -> None:
        self.stopping.set()
        self.join(5)
        if self.error is not None:
            raise self.error


def stored(data_dir: Path, symbol: str, family: str = storage.SNAPSHOTS_CF) -> dict[int, bytes]:
    """Every stored second of ``symbol`` (opens the primary: the writer must be stopped)."""
    db = storage.open_primary(storage.db_path(data_dir))
    try:
        cf = db.get_column_family(family)
        found = dict(storage.iter_range(cf, symbol, 0, storage.LAST_SECOND - 1))
        del cf
    finally:
        db.close()
    return found


def read_status(data_dir: Path, secondary_dir: Path) -> dict:
    """The writer's status record, read through a secondary while the writer runs."""
    db = storage.open_secondary(storage.db_path(data_dir), secondary_dir)
    try:
        db.try_catch_up_with_primary()
        raw = db.get_column_family(storage.META_CF).get(storage.STATUS_KEY)
    finally:
        db.close()
    return msgpack.unpackb(raw) if raw else {}
