"""DbWorker: the main process's handle on the database worker process.

It binds the PAIR socket the worker connects to, numbers the jobs it sends, maps replies back to
the clients' routes, bounds the number of jobs in flight (more get a BUSY reply at once), and
restarts a worker that died, failing its jobs with an error reply instead of leaving clients
waiting.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
from multiprocessing.process import BaseProcess
from typing import Any

import zmq

from query.dbprocess import STOP, DbProcessConfig, serve_db
from shared.protocol import BUSY, INTERNAL_ERROR, Request, RequestError, encode_error

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 32  # jobs sent to the worker and not answered yet
MAX_IN_FLIGHT_PER_CLIENT = 8  # so one client's burst cannot take every slot
STOP_SECONDS = 3.0


class DbWorker:
    """Start, feed, watch and stop the database worker process."""

    def __init__(
        self,
        context: zmq.Context[zmq.Socket[bytes]],
        config: DbProcessConfig,
    ) -> None:
        self.context = context
        self.config = config
        self.socket: zmq.Socket[bytes] | None = None
        self.process: BaseProcess | None = None
        self._pending: dict[int, tuple[list[bytes], Any, str]] = {}  # job → (route, id, method)
        self._next_job = 1
        self._backlog: list[list[bytes]] = []  # jobs not yet accepted (worker still starting)
        self.restarts = 0

    def start(self) -> None:
        """Bind a fresh PAIR and spawn the worker connected to it."""
        sock = self.context.socket(zmq.PAIR)
        sock.setsockopt(zmq.LINGER, 0)
        port = sock.bind_to_random_port("tcp://127.0.0.1")
        self.socket = sock
        config = DbProcessConfig(
            endpoint=f"tcp://127.0.0.1:{port}",
            db_path=self.config.db_path,
            secondary_dir=self.config.secondary_dir,
            reopen_seconds=self.config.reopen_seconds,
            log_level=self.config.log_level,
        )
        # spawn, not fork: a forked child would inherit the parent's ZeroMQ context and threads.
        process = multiprocessing.get_context("spawn").Process(
            target=serve_db, args=(config,), name="query-db", daemon=True
        )
        process.start()
        self.process = process
        log.info("database worker started (pid %s)", process.pid)

    def submit(self, route: list[bytes], request: Request, context: dict[str, Any]) -> None:
        """Send a job; RequestError(BUSY) when too many are in flight."""
        if len(self._pending) >= MAX_IN_FLIGHT or self.socket is None:
            raise RequestError(
                BUSY,
                f"the query process has {MAX_IN_FLIGHT} database requests in progress; "
                "retry shortly",
                request_id=request.id,
            )
        mine = sum(1 for pending_route, _, _ in self._pending.values() if pending_route == route)
        if mine >= MAX_IN_FLIGHT_PER_CLIENT:
            raise RequestError(
                BUSY,
                f"this client already has {mine} database requests in progress; wait for them",
                request_id=request.id,
            )
        job_no = self._next_job
        self._next_job += 1
        job = {
            "id": request.id,
            "method": request.method,
            "params": request.params,
            "context": context,
        }
        self._backlog.append([str(job_no).encode(), json.dumps(job).encode()])
        self._pending[job_no] = (route, request.id, request.method)
        self.flush()

    def flush(self) -> None:
        """Hand queued jobs to the worker; a PAIR without its peer yet would block, so wait."""
        while self._backlog and self.socket is not None:
            try:
                self.socket.send_multipart(self._backlog[0], zmq.NOBLOCK)
            except zmq.Again:
                return
            self._backlog.pop(0)

    def replies(self) -> list[list[bytes]]:
        """Finished replies, as ROUTER frames ready to send."""
        ready: list[list[bytes]] = []
        assert self.socket is not None
        while True:
            try:
                job_no, payload = self.socket.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return ready
            entry = self._pending.pop(int(job_no), None)
            if entry is not None:
                ready.append([*entry[0], payload])

    def check(self) -> list[list[bytes]]:
        """Restart a dead worker; error replies for the jobs it took with it."""
        if self.process is None or self.process.is_alive():
            return []
        log.error(
            "the database worker exited (code %s) with %d request(s) in progress; restarting it",
            self.process.exitcode,
            len(self._pending),
        )
        failed = [
            [
                *route,
                encode_error(
                    request_id,
                    INTERNAL_ERROR,
                    f"{method} failed: the database worker stopped; retry",
                ),
            ]
            for route, request_id, method in self._pending.values()
        ]
        self._pending.clear()
        self._backlog.clear()
        self._close_socket()
        self.restarts += 1
        self.start()
        return failed

    def stop(self) -> None:
        """Ask the worker to exit, wait up to STOP_SECONDS, then terminate it."""
        process = self.process
        if self.socket is not None and process is not None and process.is_alive():
            with contextlib.suppress(zmq.ZMQError):
                self.socket.send_multipart([STOP], zmq.NOBLOCK)
            process.join(STOP_SECONDS)
            if process.is_alive():
                log.warning("the database worker did not stop in time; terminating it")
                process.terminate()
                process.join(1.0)
        self._close_socket()

    def _close_socket(self) -> None:
        if self.socket is not None:
            self.socket.close(linger=0)
            self.socket = None
