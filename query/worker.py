"""WorkerPool: the main process's database workers, their jobs, deadlines and per-client caps.

Each worker is an OS process (``query/dbprocess.py``) holding its own RocksDB secondary; it gets
one job at a time over a socketpair the child inherits (``query/channel.py``), so no other
process can reach it, and which the main process reads and writes without ever waiting. A job is
the already-parsed request (pickled once; nothing is re-serialised as JSON and parsed again).
The pool:

- hands each job to an idle worker, queueing at most ``MAX_IN_FLIGHT`` in all and
  ``MAX_IN_FLIGHT_PER_CLIENT`` per client (a client is its peer address plus its CURVE key, not a
  socket identity, so opening more sockets gets no more slots); more get a BUSY reply at once;
- answers a job that runs past its ``deadline`` with a DEADLINE_EXCEEDED reply and restarts that
  worker (the only way to stop a runaway computation), and restarts a worker that died, failing
  its job with an error reply instead of leaving the client waiting.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.process import BaseProcess
from typing import Any

from query.channel import Channel, ChannelClosed, WorkerEnd
from query.dbprocess import STOP, DbProcessConfig, Job, serve_db
from shared.clock import Clock
from shared.protocol import (
    BUSY,
    DEADLINE_EXCEEDED,
    INTERNAL_ERROR,
    Request,
    RequestError,
    encode_error,
)

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 32  # jobs queued or running, over all clients
MAX_IN_FLIGHT_PER_CLIENT = 8  # so one client's burst cannot take every slot
STOP_SECONDS = 3.0

Route = list[bytes]
Reply = list[bytes]  # ROUTER frames: the route, then the reply


@dataclass(slots=True)
class _Pending:
    route: Route
    client: str
    job: Job
    started: float = 0.0  # monotonic time a worker took it
    received: float = 0.0  # monotonic time it was submitted


@dataclass(slots=True)
class _Worker:
    index: int
    process: BaseProcess | None = None
    conn: Channel | None = None
    running: _Pending | None = None
    restarts: int = 0


class WorkerPool:
    """Start, feed, watch and stop the database workers."""

    def __init__(self, config: DbProcessConfig, size: int, deadline: float, clock: Clock) -> None:
        self.config = config
        self.deadline = deadline
        self.clock = clock
        self._workers = [_Worker(i) for i in range(size)]
        self._queue: deque[_Pending] = deque()
        self._next_job = 1
        self.restarts = 0
        self.deadlines_exceeded = 0
        # (method, reply, seconds since submitted) for each reply: query/metrics.py
        self.on_reply: Callable[[str, bytes, float], None] | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        for worker in self._workers:
            self._start(worker)

    def _start(self, worker: _Worker) -> None:
        mine, theirs = socket.socketpair()
        config = replace(
            self.config, secondary_dir=self.config.secondary_dir / f"worker-{worker.index}"
        )
        # spawn, not fork: a forked child would inherit the parent's ZeroMQ context and threads.
        process = multiprocessing.get_context("spawn").Process(
            target=serve_db,
            args=(config, WorkerEnd(theirs)),
            name=f"query-db-{worker.index}",
            daemon=True,
        )
        process.start()
        theirs.close()  # the child holds its end; ours alone stays here
        worker.process, worker.conn, worker.running = process, Channel(mine), None
        log.info("database worker %d started (pid %s)", worker.index, process.pid)

    def stop(self) -> None:
        """Ask every worker to exit, wait up to STOP_SECONDS, then terminate the rest."""
        for worker in self._workers:
            alive = worker.process is not None and worker.process.is_alive()
            if worker.conn is not None and alive:
                with contextlib.suppress(ChannelClosed):
                    worker.conn.send(STOP)
        deadline = self.clock.monotonic() + STOP_SECONDS
        for worker in self._workers:
            if worker.process is not None:
                worker.process.join(max(0.0, deadline - self.clock.monotonic()))
                if worker.process.is_alive():
                    log.warning(
                        "database worker %d did not stop in time; terminating it", worker.index
                    )
                    worker.process.terminate()
                    worker.process.join(1.0)
            self._close(worker)

    def _close(self, worker: _Worker) -> None:
        if worker.conn is not None:
            worker.conn.close()
            worker.conn = None

    # --- jobs -----------------------------------------------------------------------------------

    def fds(self) -> list[int]:
        """The channel ends to poll for replies."""
        return [w.conn.fileno() for w in self._workers if w.conn is not None]

    def writing(self) -> list[int]:
        """The channel ends with a job still being written: poll them for writability."""
        return [w.conn.fileno() for w in self._workers if w.conn is not None and w.conn.wants_write]

    def flush(self, writable: set[int]) -> None:
        """Write more of the jobs whose channel became writable (never waits)."""
        for worker in self._workers:
            if worker.conn is not None and worker.conn.fileno() in writable:
                with contextlib.suppress(ChannelClosed):  # check() restarts a gone worker
                    worker.conn.flush()

    def submit(self, route: Route, client: str, request: Request, context: dict[str, Any]) -> None:
        """Queue a job; RequestError(BUSY) when too many are in flight, in all or for the client."""
        pending = [*self._queue, *(w.running for w in self._workers if w.running is not None)]
        if len(pending) >= MAX_IN_FLIGHT:
            raise RequestError(
                BUSY,
                f"the query process has {MAX_IN_FLIGHT} database requests in progress; "
                "retry shortly",
                request_id=request.id,
            )
        mine = sum(1 for p in pending if p.client == client)
        if mine >= MAX_IN_FLIGHT_PER_CLIENT:
            raise RequestError(
                BUSY,
                f"this client already has {mine} database requests in progress; wait for them",
                request_id=request.id,
            )
        job = Job(self._next_job, request.id, request.method, request.params, context)
        self._next_job += 1
        self._queue.append(_Pending(route, client, job, received=self.clock.monotonic()))
        self.dispatch()

    def dispatch(self) -> None:
        """Give queued jobs to idle workers."""
        for worker in self._workers:
            if not self._queue:
                return
            if worker.running is None and worker.conn is not None:
                pending = self._queue.popleft()
                try:
                    worker.conn.send(pending.job)  # queued: written as the socket takes it
                except ChannelClosed:
                    self._queue.appendleft(pending)  # the worker is gone: check() restarts it
                    continue
                pending.started = self.clock.monotonic()
                worker.running = pending

    def replies(self, ready_fds: set[int]) -> list[Reply]:
        """The finished replies of the workers whose pipe is readable."""
        done: list[Reply] = []
        for worker in self._workers:
            conn = worker.conn
            if conn is None or conn.fileno() not in ready_fds:
                continue
            try:
                messages = conn.receive()  # what has arrived; never waits for the rest
            except ChannelClosed:
                continue  # the worker died: check() answers its job and restarts it
            for job_no, payload in messages:
                running = worker.running
                if running is not None and running.job.job_no == job_no:
                    done.append([*running.route, payload])
                    worker.running = None
                    self._answered(running, payload)
        self.dispatch()
        return done

    def check(self) -> list[Reply]:
        """Restart dead workers and workers past their deadline; error replies for their jobs."""
        failed: list[Reply] = []
        now = self.clock.monotonic()
        for worker in self._workers:
            process, running = worker.process, worker.running
            overdue = running is not None and now - running.started > self.deadline
            dead = process is None or not process.is_alive()
            if not (dead or overdue):
                continue
            if running is not None:
                failed.append(self._failure(running, overdue=overdue and not dead))
                self._answered(running, failed[-1][-1])
            if overdue and not dead:
                self.deadlines_exceeded += 1
                log.error(
                    "database worker %d: %s ran past its %.0f s deadline; restarting the worker",
                    worker.index,
                    running.job.method if running else "?",
                    self.deadline,
                )
                assert process is not None
                process.kill()
                process.join(1.0)
            else:
                log.error(
                    "database worker %d exited (code %s); restarting it",
                    worker.index,
                    process.exitcode if process is not None else None,
                )
            self._close(worker)
            worker.running = None
            worker.restarts += 1
            self.restarts += 1
            self._start(worker)
        self.dispatch()
        return failed

    def _answered(self, pending: _Pending, payload: bytes) -> None:
        if self.on_reply is not None:
            self.on_reply(pending.job.method, payload, self.clock.monotonic() - pending.received)

    def _failure(self, pending: _Pending, *, overdue: bool) -> Reply:
        job = pending.job
        if overdue:
            reply = encode_error(
                job.request_id,
                DEADLINE_EXCEEDED,
                f"{job.method} took longer than the {self.deadline:g} s deadline and was stopped; "
                "ask for a shorter period",
            )
        else:
            reply = encode_error(
                job.request_id,
                INTERNAL_ERROR,
                f"{job.method} failed: the database worker stopped; retry",
            )
        return [*pending.route, reply]

    @property
    def in_flight(self) -> int:
        return len(self._queue) + sum(1 for w in self._workers if w.running is not None)

    @property
    def size(self) -> int:
        return len(self._workers)
