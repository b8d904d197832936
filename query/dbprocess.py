"""A database worker process: the only part of the query process that touches RocksDB.

Each runs in its own OS process (``multiprocessing`` spawn) so that decoding thousands of
snapshots never holds the main process's GIL: measured on 2 cores, a worker *thread* pushed L1 p99
from ~1 ms to ~14 ms; a worker process leaves it at ~1 ms. ``query/worker.py`` runs a pool of them.

Protocol over the worker's end of a socketpair inherited from the main process, reachable by no
other process (``query/channel.py``): main → worker a ``Job`` or ``STOP``; worker → main
``(job_no, reply)`` where reply is the finished JSON reply for the client.
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from query.channel import ChannelClosed, WorkerEnd
from query.handlers import DbHandlers
from query.reader import SecondaryReader
from query.replies import reply_for_exception, reply_for_result
from shared.clock import SystemClock
from shared.log import configure_logging
from shared.protocol import RequestId

log = logging.getLogger(__name__)

STOP = "stop"
POLL_SECONDS = 0.5
SLOW_REQUEST_SECONDS = 2.0
WORKER_NICENESS = 5


class Job(NamedTuple):
    """One request for a worker: parsed once by the main process, pickled by the pipe."""

    job_no: int
    request_id: RequestId
    method: str
    params: dict[str, Any]
    context: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DbProcessConfig:
    db_path: Path
    secondary_dir: Path  # this worker's own secondary folder
    reopen_seconds: float
    log_level: str


def serve_db(config: DbProcessConfig, conn: WorkerEnd) -> None:
    """Entry point of a worker process: answer jobs until told to stop or orphaned."""
    # The main process decides when we stop (Ctrl-C reaches the whole process group).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    configure_logging(process="query", tag="db", level=config.log_level)
    # Below the main process in the scheduler: live L1/L2 answers must not wait for a core while
    # workers crunch analytics (under the fuzz campaign, L1 p99 went from ~48 ms to 10-27 ms).
    os.nice(WORKER_NICENESS)
    parent = os.getppid()
    clock = SystemClock()
    reader = SecondaryReader(config.db_path, config.secondary_dir, config.reopen_seconds, clock)
    handlers = DbHandlers(reader, clock)
    try:
        while True:
            if not conn.poll(POLL_SECONDS):
                if os.getppid() != parent:
                    log.error("the main query process is gone; exiting")
                    break
                reader.maybe_open()
                continue
            try:
                job = conn.recv()
            except ChannelClosed:
                break  # the main process closed its end
            if job == STOP:
                break
            conn.send((job.job_no, answer(handlers, job)))
    finally:
        reader.close()
        conn.close()


def answer(handlers: DbHandlers, job: Job) -> bytes:
    """The reply bytes of one job; never raises."""
    clock = handlers.clock
    started = clock.monotonic()
    try:
        result = handlers.methods[job.method](job.params, job.context)
        payload = reply_for_result(job.request_id, result)
    except Exception as exc:
        payload = reply_for_exception(job.request_id, job.method, exc)
    elapsed = clock.monotonic() - started
    if elapsed > SLOW_REQUEST_SECONDS:
        log.warning("%s took %.1f s", job.method, elapsed)
    return payload
