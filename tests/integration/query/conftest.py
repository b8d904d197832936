"""A real ``python -m query`` process on free endpoints over a tmp data dir."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import zmq

from booksnap.client import QueryClient
from tests.support.processes import Proc
from tests.support.waiting import free_endpoint, poll_for


@dataclass
class QueryProcess:
    proc: Proc
    data_dir: Path
    endpoint: str
    live_endpoint: str
    feed_endpoint: str

    def client(self, timeout: float = 10.0) -> QueryClient:
        return QueryClient(self.endpoint, timeout=timeout)


def start_query(tmp_path: Path, data_dir: Path) -> QueryProcess:
    endpoints = [free_endpoint() for _ in range(3)]
    proc = Proc(
        "query",
        [
            "--data-dir",
            str(data_dir),
            "--endpoint",
            endpoints[0],
            "--live-endpoint",
            endpoints[1],
            "--feed-endpoint",
            endpoints[2],
            "--log-level",
            "INFO",
        ],
        tmp_path / "query.log",
    ).start()
    proc.wait_log("query process ready", timeout=30)
    return QueryProcess(proc, data_dir, *endpoints)


@pytest.fixture
def query_process(tmp_path: Path) -> Iterator[QueryProcess]:
    """The query process over ``tmp_path/data`` (created empty: no database yet)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    started = start_query(tmp_path, data_dir)
    yield started
    code = started.proc.stop(timeout=10)
    assert code == 0, started.proc.log()[-3000:]


@pytest.fixture
def live_pub(
    query_process: QueryProcess, zmq_context: zmq.Context[zmq.Socket[bytes]]
) -> Iterator[zmq.Socket[bytes]]:
    """A PUB connected to the query process's live endpoint, as a collector's is."""
    pub = zmq_context.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.connect(query_process.live_endpoint)
    yield pub
    pub.close(linger=0)


def publish_until(pub: zmq.Socket[bytes], frames: list[bytes], condition, timeout: float = 10.0):
    """Re-send ``frames`` until ``condition()`` holds (PUB drops messages before the connection)."""

    def attempt():
        pub.send_multipart(frames)
        return condition()

    return poll_for(attempt, timeout, interval=0.05, what="the query process to see the book")
