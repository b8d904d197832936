"""QueryServer: the main loop of the query process.

One thread polls with a ≤0.2 s timeout: the live SUB (collectors' books, recorded and
re-published), the ROUTER (client requests) and the pipes of the database workers (finished
replies to forward). L1/L2 are answered inline from memory; everything that reads the database
runs in a worker process (``query/worker.py``), so it never holds this process's GIL.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from typing import Any

import zmq

from query.config import QueryConfig
from query.dbprocess import DbProcessConfig
from query.live import LiveBooks, LiveFeed
from query.live_handlers import LiveHandlers
from query.replies import MAX_MESSAGE_CHARS, reply_for_exception, reply_for_result
from query.worker import WorkerPool
from shared.clock import Clock
from shared.lifecycle import StopFlag
from shared.methods import BY_NAME, NAMES
from shared.multipart import receive
from shared.protocol import (
    MAX_MESSAGE_BYTES,
    METHOD_NOT_FOUND,
    RequestError,
    encode_error,
    parse_request,
    split_envelope,
)
from shared.security import SocketSecurity

log = logging.getLogger(__name__)

POLL_MS = 200
MAX_REQUESTS_PER_TURN = 200  # then drain the live stream again, so neither side starves
STATS_INTERVAL = 60.0
WORKER_CHECK_INTERVAL = 1.0
REPLY_HWM = 16  # replies queued per client connection
KEEP_FRAMES = 4  # frames kept of a request (a valid one has 2 or 3): the rest are dropped
FRESHEN_MESSAGES = 64  # live messages taken in before each request


class QueryServer:
    """ROUTER + live feed + database worker, driven by one ``run(stop)`` loop."""

    def __init__(
        self,
        context: zmq.Context[zmq.Socket[bytes]],
        endpoint: str,
        live: LiveHandlers,
        feed: LiveFeed,
        worker: WorkerPool,
        *,
        clock: Clock,
        security: SocketSecurity,
    ) -> None:
        self.clock = clock
        self.security = security
        self.live = live
        self.feed = feed
        self.worker = worker
        self.router = context.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.LINGER, 0)
        self.router.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 0)  # a vanished client's reply is dropped
        # Replies queued for one client that does not read are dropped past this many: with
        # replies of at most ~3.5 MB (query_snapshots pages) that bounds a client's queue to
        # ~56 MB; its in-flight cap (8) means a reading client never reaches it.
        self.router.setsockopt(zmq.SNDHWM, REPLY_HWM)
        try:
            security.serve(self.router, "query", endpoint, "--endpoint")
            self.router.bind(endpoint)
        except BaseException:
            self.router.close(linger=0)
            raise
        self.requests = 0
        self.errors = 0
        self.method = "?"  # of the request being dispatched
        self.on_reply: Callable[[str, bytes, float], None] | None = None  # query/metrics.py

    @classmethod
    def from_config(
        cls, config: QueryConfig, context: zmq.Context[zmq.Socket[bytes]], clock: Clock
    ) -> QueryServer:
        """Build the real components: live books and feed, live handlers, database worker."""
        security = SocketSecurity.from_options(context, "query", config.keys_dir, config.insecure)
        books = LiveBooks(clock, config.symbols)
        try:
            feed = LiveFeed(context, config.live_endpoint, config.feed_endpoint, books, security)
        except BaseException:
            security.stop()
            raise
        worker = WorkerPool(
            DbProcessConfig(
                db_path=config.db_path,
                secondary_dir=config.secondary_dir,
                reopen_seconds=config.reopen_seconds,
                log_level=config.log_level,
            ),
            size=config.workers,
            deadline=config.request_deadline,
            clock=clock,
        )
        try:
            return cls(
                context,
                config.query_endpoint,
                LiveHandlers(books, clock),
                feed,
                worker,
                clock=clock,
                security=security,
            )
        except BaseException:
            feed.close()
            security.stop()
            raise

    def run(self, stop: StopFlag) -> None:
        """Serve until ``stop`` is set, then close in reverse order of setup."""
        self.worker.start()
        log.info("query process ready")
        next_stats = self.clock.monotonic() + STATS_INTERVAL
        next_check = self.clock.monotonic() + WORKER_CHECK_INTERVAL
        try:
            while not stop:
                poller = zmq.Poller()  # rebuilt each turn: a restarted worker has a new pipe
                poller.register(self.feed.sub, zmq.POLLIN)
                poller.register(self.router, zmq.POLLIN)
                for fd in self.worker.fds():
                    poller.register(fd, zmq.POLLIN)
                for fd in self.worker.writing():
                    poller.register(fd, zmq.POLLIN | zmq.POLLOUT)
                events = dict(poller.poll(POLL_MS))
                if self.feed.sub in events:
                    self.feed.drain()
                if self.router in events:
                    self._serve_requests()
                ready = {
                    fd for fd, what in events.items() if isinstance(fd, int) and what & zmq.POLLIN
                }
                if ready:
                    self._send_all(self.worker.replies(ready))
                writable = {
                    fd for fd, what in events.items() if isinstance(fd, int) and what & zmq.POLLOUT
                }
                if writable:
                    self.worker.flush(writable)
                now = self.clock.monotonic()
                if now >= next_check:
                    next_check = now + WORKER_CHECK_INTERVAL
                    self._send_all(self.worker.check())
                if now >= next_stats:
                    next_stats = now + STATS_INTERVAL
                    self._log_stats()
                    self.security.tick()
        finally:
            self.close()

    def _serve_requests(self) -> None:
        for _ in range(MAX_REQUESTS_PER_TURN):
            try:
                message = receive(self.router, KEEP_FRAMES)
            except zmq.Again:
                return
            # Answer live requests against the freshest book: take what the collectors sent
            # (a bounded bite, so a flood on the live socket cannot delay a request for long).
            started = self.clock.monotonic()
            self.feed.drain(FRESHEN_MESSAGES)
            reply = self._dispatch([frame.bytes for frame in message], client_of(message))
            if reply is not None:
                self.router.send_multipart(reply)
                if self.on_reply is not None:
                    self.on_reply(self.method, reply[-1], self.clock.monotonic() - started)

    def _dispatch(self, frames: list[bytes], client: str = "") -> list[bytes] | None:
        """The reply frames for one request, or None when a database worker will answer it."""
        self.requests += 1
        route, body = split_envelope(frames)
        method = self.method = "?"
        request_id: Any = None
        try:
            request = parse_request(body)
            method, request_id = request.method, request.id
            self.method = method
            if request.method in self.live.methods:
                result = self.live.methods[request.method](request.params)
                return [*route, reply_for_result(request.id, result)]
            if request.method in BY_NAME:  # every method not answered live is a database one
                books = self.feed.books
                self.worker.submit(
                    route, client, request, {"live": books.summary(), "invalid": books.invalid}
                )
                return None
            raise RequestError(
                METHOD_NOT_FOUND,
                f"unknown method {request.method!r}; methods: {', '.join(NAMES)}",
                request_id=request.id,
            )
        except RequestError as exc:
            self.errors += 1
            reply_id = request_id if exc.request_id is None else exc.request_id
            message = exc.message[:MAX_MESSAGE_CHARS]
            return [*route, encode_error(reply_id, exc.code, message, exc.data)]
        except Exception as exc:
            self.errors += 1
            return [*route, reply_for_exception(request_id, method, exc)]

    def _send_all(self, replies: list[list[bytes]]) -> None:
        for frames in replies:
            self.router.send_multipart(frames)

    def _log_stats(self) -> None:
        books = self.feed.books
        log.info(
            "served %d requests (%d errors); live: %d symbols, %d invalid, %d re-published",
            self.requests,
            self.errors,
            len(books.symbols),
            books.invalid,
            self.feed.republished,
        )

    def close(self) -> None:
        """Stop the worker, then close the sockets (reverse order of setup)."""
        log.info("stopping the database worker")
        self.worker.stop()
        log.info("closing the request and live sockets")
        self.router.close(linger=0)
        self.feed.close()
        self.security.stop()


def client_of(message: list[zmq.Frame]) -> str:
    """Who sent a request, for the per-client caps.

    With CURVE keys: the client's public key (ZeroMQ's ``User-Id``), so opening more sockets buys
    no more slots. Without keys, a peer on another host: its address (``Peer-Address`` is the IP
    only, not the port). A plain peer on this host: its socket identity, since every local process
    is as trusted as any other there and one address would make all local clients one.
    """
    frame = message[-1]
    for prop in ("User-Id", "Peer-Address"):
        try:
            value = str(frame.get(prop))
        except zmq.ZMQError:  # no such property: a plain socket, or an ipc/inproc peer
            continue
        if value and not (prop == "Peer-Address" and _is_loopback(value)):
            return f"{prop}:{value}"
    return f"socket:{message[0].bytes.hex()}"


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
