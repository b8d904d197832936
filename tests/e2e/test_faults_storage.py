"""Storage-side drills: a full disk under the running pipeline, and a database that is not one.

Disk full: the data directory is a small real tmpfs; a filler file takes every free byte. The
writer must log ERRORs, keep every record in memory, not crash, and once the filler is deleted
store every second, so that nothing is lost. A database path that is a regular file, or a
directory of files that are not a RocksDB database: the writer says so at ERROR and never
overwrites what is there.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import book_problems, now_second, pipeline_env, ranges, start_pipeline
from tests.support.disk import fill, small_tmpfs
from tests.support.processes import Proc, stop_all
from tests.support.waiting import free_port, poll_for


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
        missing = pipe.settle_coverage(start, end)
        for symbol in pipe.symbols:
            assert missing[symbol] == [], f"{symbol} lost {ranges(missing[symbol])}"
            assert not book_problems(pipe.data_dir, tmp_path / symbol, symbol, start, end)
        for name, proc in pipe.procs.items():
            assert proc.alive(), f"{name} died:\n{proc.log()[-3000:]}"
            assert "Traceback" not in proc.log(), f"{name}:\n{proc.log()[-3000:]}"
    finally:
        stop_all(list(pipe.procs.values()))


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _not_a_database_file(data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / "rocksdb").write_bytes(b"someone's precious file, not a database\n" * 100)


def _garbage_database_dir(data_dir: Path) -> None:
    db = data_dir / "rocksdb"
    db.mkdir(parents=True)
    (db / "CURRENT").write_text("MANIFEST-000042\n")
    (db / "MANIFEST-000042").write_bytes(os.urandom(4096))
    (db / "000041.sst").write_bytes(os.urandom(8192))
    (db / "notes.txt").write_text("not a RocksDB database\n")


@pytest.mark.parametrize("make", [_not_a_database_file, _garbage_database_dir])
def test_unusable_database_path_is_a_clear_error_and_is_never_overwritten(
    tmp_path: Path, make: object
) -> None:
    data_dir = tmp_path / "data"
    assert callable(make)
    make(data_dir)
    before = _digest(data_dir)
    env = pipeline_env(tmp_path, free_port())
    env["BOOKSNAP_DATA_DIR"] = str(data_dir)
    writer = Proc("writer", [], tmp_path / "writer.log", env=env).start()
    try:
        # The writer's choice: keep retrying with an ERROR naming the path and the cause (an
        # operator may fix the path while it waits), never create a database over the files.
        poll_for(
            lambda: "Cannot open the database" in writer.log() or not writer.alive(),
            30,
            what="an error about the database",
        )
        errors = [line for line in writer.log().splitlines() if " ERROR " in line]
        if writer.alive():
            poll_for(
                lambda: writer.log().count("Cannot open the database") >= 2,
                20,
                what="a retried open",
            )
            assert all(str(data_dir / "rocksdb") in line for line in errors), errors
            writer.signal(signal.SIGTERM)
            started = time.monotonic()
            assert writer.popen is not None
            assert writer.popen.wait(10) == 0, writer.log()[-2000:]
            assert time.monotonic() - started < 6
        else:
            assert writer.popen is not None
            assert writer.popen.returncode != 0
            assert "rocksdb" in writer.log()
        assert "Traceback" not in writer.log(), writer.log()[-3000:]
        after = _digest(data_dir)
        assert {k: after.get(k) for k in before} == before, "existing files were changed"
        # each open attempt may leave RocksDB's own info log and lock files, nothing else
        added = {Path(k).name for k in set(after) - set(before)}
        assert all(_ROCKSDB_OWN.match(name) for name in added), added
    finally:
        writer.kill()


_ROCKSDB_OWN = re.compile(r"^(LOG|LOG\.old\.\d+|LOCK|rocksdict-config\.json)$")


def test_writer_stopped_before_its_database_opens_never_claims_ready(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _not_a_database_file(data_dir)
    env = pipeline_env(tmp_path, free_port())
    env["BOOKSNAP_DATA_DIR"] = str(data_dir)
    writer = Proc("writer", [], tmp_path / "writer.log", env=env).start()
    try:
        writer.wait_log("Cannot open the database", timeout=30)
        writer.signal(signal.SIGTERM)
        assert writer.popen is not None
        assert writer.popen.wait(10) == 0
        assert "Writer ready" not in writer.log(), writer.log()[-2000:]
    finally:
        writer.kill()
