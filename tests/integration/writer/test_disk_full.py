"""A full disk: ERROR logs, no crash, and every second stored once space is freed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.writer.harness import FakeCollector, WriterProc, series, stored
from tests.support.disk import fill, small_tmpfs
from tests.support.waiting import poll_for


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Path]:
    """A real 8 MB tmpfs, so writes hit ENOSPC (needs root and mount permission)."""
    with small_tmpfs(tmp_path, "8m") as disk:
        yield disk


def test_full_disk_is_survived_without_losing_a_second(
    small_disk, tmp_path, collectors, zmq_context
):
    writer = WriterProc(tmp_path, small_disk / "data")
    try:
        writer.start()
        first = int(time.time()) - 600
        count = 300
        fake = FakeCollector(zmq_context, writer, series("BTCUSDT", first, count), interval=0.03)
        collectors.append(fake)
        fake.start()
        writer.wait_stored("BTCUSDT", set(range(first, first + 20)))

        filler = fill(small_disk)
        poll_for(lambda: "No space left on device" in writer.log(), 20, what="the ENOSPC error")
        poll_for(lambda: "Database still unavailable" in writer.log(), 20, what="a failed reopen")
        assert writer.proc.alive()
        stuck = writer.logged("BTCUSDT")
        assert len(stuck) < count

        filler.unlink()
        writer.wait_stored("BTCUSDT", set(range(first, first + count)), timeout=60)
        assert "Database reopened" in writer.log()
        errors = [line for line in writer.log().splitlines() if " ERROR " in line]
        assert any("records stay queued" in line for line in errors)
        assert writer.proc.stop(10) == 0
        assert set(stored(writer.data_dir, "BTCUSDT")) == set(range(first, first + count))
    finally:
        if writer.proc is not None:
            writer.proc.kill()
