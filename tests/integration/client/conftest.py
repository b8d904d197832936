"""Real processes for the client tests: ``python -m writer`` fed real recorded seconds by a
collector stand-in over ZeroMQ, and ``python -m query`` over the same data directory."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import zmq

from tests.integration.query.conftest import QueryProcess, start_query
from tests.integration.writer.harness import FakeCollector, WriterProc, series
from tests.support.seconds import Second

SYMBOL = "BTCUSDT"
BOOKSNAP = str(Path(sys.executable).parent / "booksnap")


def booksnap(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the ``booksnap`` console command of this virtualenv, output captured (piped)."""
    return subprocess.run(
        [BOOKSNAP, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@dataclass
class Stored:
    """A running writer and query process, and the seconds the writer has stored."""

    tmp: Path
    writer: WriterProc
    query: QueryProcess
    seconds: list[Second]
    context: zmq.Context[zmq.Socket[bytes]]

    @property
    def first(self) -> int:
        return self.seconds[0].second

    @property
    def last(self) -> int:
        return self.seconds[-1].second

    def publish(self, seconds: list[Second]) -> None:
        """Have the writer store ``seconds`` (a fresh collector session), and wait for it."""
        collector = FakeCollector(self.context, self.writer, seconds)
        collector.start()
        try:
            self.writer.wait_stored(seconds[0].symbol, {s.second for s in seconds}, timeout=60)
        finally:
            collector.stop()


@pytest.fixture(scope="package")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stored]:
    """120 real BTCUSDT seconds (the recordings, moved to ten minutes ago) stored by the writer."""
    tmp = tmp_path_factory.mktemp("client")
    data_dir = tmp / "data"
    data_dir.mkdir()
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    writer = WriterProc(tmp, data_dir)
    writer.start()
    query = start_query(tmp, data_dir)
    seconds = series(SYMBOL, int(time.time()) - 600, 120, session=7)
    setup = Stored(tmp, writer, query, seconds, context)
    try:
        setup.publish(seconds)
        yield setup
    finally:
        query.proc.stop(10)
        assert writer.proc is not None
        writer.proc.stop(10)
        context.term()
