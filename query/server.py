"""QueryServer: the main loop of the query process.

One thread polls three sockets with a ≤0.2 s timeout: the live SUB (collectors' books, recorded
and re-published), the ROUTER (client requests) and the PAIR of the database worker process
(finished replies to forward). L1/L2 are answered inline from memory; everything that reads
the database runs in the worker process, so it never holds this process's GIL.
"""

from __future__ import annotations

import logging
from typing import Any

import zmq

from query.config import QueryConfig
from query.dbprocess import DbProcessConfig
from query.live import LiveBooks, LiveFeed
from query.live_handlers import LiveHandlers
from query.replies import MAX_MESSAGE_CHARS, reply_for_exception, reply_for_result
from query.worker import DbWorker
from shared.clock import Clock
from shared.lifecycle import StopFlag
from shared.methods import BY_NAME, NAMES
from shared.protocol import (
    MAX_MESSAGE_BYTES,
    METHOD_NOT_FOUND,
    RequestError,
    encode_error,
    parse_request,
    split_envelope,
)

log = logging.getLogger(__name__)

POLL_MS = 200
MAX_REQUESTS_PER_TURN = 200  # then drain the live stream again, so neither side starves
STATS_INTERVAL = 60.0
WORKER_CHECK_INTERVAL = 1.0


class QueryServer:
    """ROUTER + live feed + database worker, driven by one ``run(stop)`` loop."""

    def __init__(
        self,
        context: zmq.Context[zmq.Socket[bytes]],
        endpoint: str,
        live: LiveHandlers,
        feed: LiveFeed,
        worker: DbWorker,
        *,
        clock: Clock,
    ) -> None:
        self.clock = clock
        self.live = live
        self.feed = feed
        self.worker = worker
        self.router = context.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.LINGER, 0)
        self.router.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 0)  # a vanished client's reply is dropped
        self.router.setsockopt(zmq.SNDHWM, 10_000)
        try:
            self.router.bind(endpoint)
        except zmq.ZMQError:
            self.router.close(linger=0)
            raise
        self.requests = 0
        self.errors = 0

    @classmethod
    def from_config(
        cls, config: QueryConfig, context: zmq.Context[zmq.Socket[bytes]], clock: Clock
    ) -> QueryServer:
        """Build the real components: live books and feed, live handlers, database worker."""
        books = LiveBooks(clock)
        feed = LiveFeed(context, config.live_endpoint, config.feed_endpoint, books)
        worker = DbWorker(
            context,
            DbProcessConfig(
                endpoint="",  # chosen when the worker starts
                db_path=config.db_path,
                secondary_dir=config.secondary_dir,
                reopen_seconds=config.reopen_seconds,
                log_level=config.log_level,
            ),
        )
        try:
            return cls(
                context,
                config.query_endpoint,
                LiveHandlers(books, clock),
                feed,
                worker,
                clock=clock,
            )
        except zmq.ZMQError:
            feed.close()
            raise

    def run(self, stop: StopFlag) -> None:
        """Serve until ``stop`` is set, then close in reverse order of setup."""
        self.worker.start()
        log.info("query process ready")
        next_stats = self.clock.monotonic() + STATS_INTERVAL
        next_check = self.clock.monotonic() + WORKER_CHECK_INTERVAL
        try:
            while not stop:
                poller = zmq.Poller()  # rebuilt each turn: a restarted worker has a new socket
                for sock in (self.feed.sub, self.router, self.worker.socket):
                    if sock is not None:
                        poller.register(sock, zmq.POLLIN)
                events = dict(poller.poll(POLL_MS))
                if self.feed.sub in events:
                    self.feed.drain()
                if self.router in events:
                    self._serve_requests()
                if self.worker.socket is not None and self.worker.socket in events:
                    self._send_all(self.worker.replies())
                self.worker.flush()
                now = self.clock.monotonic()
                if now >= next_check:
                    next_check = now + WORKER_CHECK_INTERVAL
                    self._send_all(self.worker.check())
                if now >= next_stats:
                    next_stats = now + STATS_INTERVAL
                    self._log_stats()
        finally:
            self.close()

    def _serve_requests(self) -> None:
        for _ in range(MAX_REQUESTS_PER_TURN):
            try:
                frames = self.router.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            # Answer live requests against the freshest book: take what the collectors sent.
            self.feed.drain()
            reply = self._dispatch(frames)
            if reply is not None:
                self.router.send_multipart(reply)

    def _dispatch(self, frames: list[bytes]) -> list[bytes] | None:
        """The reply frames for one request, or None when the worker will answer it."""
        self.requests += 1
        route, body = split_envelope(frames)
        method = "?"
        request_id: Any = None
        try:
            request = parse_request(body)
            method, request_id = request.method, request.id
            if request.method in self.live.methods:
                result = self.live.methods[request.method](request.params)
                return [*route, reply_for_result(request.id, result)]
            if request.method in BY_NAME:  # every method not answered live is a database one
                books = self.feed.books
                self.worker.submit(
                    route, request, {"live": books.summary(), "invalid": books.invalid}
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
