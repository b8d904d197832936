"""Storage-side drills: a full disk under the running pipeline, and a database that is not one.

Disk full: the data directory is a small real tmpfs; a filler file takes every free byte. The
writer must log ERRORs, keep every record in memory, not crash, and once the filler is deleted
store every second, so that nothing is lost. (A database path that can never be a database is a
start-up error: tests/e2e/test_writer_startup.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.books import book_problems
from tests.support.disk import fill, small_tmpfs
from tests.support.logs import ranges
from tests.support.pipeline import now_second, start_pipeline
from tests.support.processes import stop_all
from tests.support.waiting import poll_for


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 24 MB tmpfs, so writes hit ENOSPC (needs root and mount permission)."""
    with small_tmpfs(tmp_path, "24m") as disk:
        yield disk


def test_disk_full_logs_errors_crashes_nothing_and_loses_no_second(
    small_disk: Path, tmp_path: Path
) -> None:
    pipe = start_pipeline(tmp_path, data_dir=small_disk / "data")
    try:
        start = now_second()
        pipe.wait_stored_through(start)
        filler = fill(small_disk)
        poll_for(
            lambda: "No space left on device" in pipe.log("writer"),
            30,
            what="the writer's ENOSPC error",
        )
        full_at = now_second()
        # a few seconds of full disk: the writer keeps the records in memory and retries
        poll_for(
            lambda: "Database still unavailable" in pipe.log("writer"),
            30,
            what="a failed reopen on the full disk",
        )
        for name, proc in pipe.procs.items():
            assert proc.alive(), f"{name} died on a full disk:\n{proc.log()[-3000:]}"
        errors = [line for line in pipe.log("writer").splitlines() if " ERROR " in line]
        assert any("records stay queued" in line for line in errors), errors[:5]
        assert max(pipe.stored()["BTCUSDT"]) <= full_at + 2  # nothing durable while full

        filler.unlink()
        poll_for(lambda: "Database reopened" in pipe.log("writer"), 30, what="the reopen")
        end = now_second() + 3
        pipe.wait_stored_through(end)
        missing = pipe.lost(pipe.settle_coverage(start, end))
        for symbol in pipe.symbols:
            assert missing[symbol] == [], f"{symbol} lost {ranges(missing[symbol])}"
            assert not book_problems(pipe.data_dir, tmp_path / symbol, symbol, start, end)
        for name, proc in pipe.procs.items():
            assert proc.alive(), f"{name} died:\n{proc.log()[-3000:]}"
            assert "Traceback" not in proc.log(), f"{name}:\n{proc.log()[-3000:]}"
    finally:
        stop_all(list(pipe.procs.values()))
