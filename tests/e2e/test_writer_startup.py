"""The real ``python -m writer`` on a database path that can never be a database.

At start-up such a path is a configuration error: exit 1 at once, with one ERROR line naming the
path and the cause, no retry loop, no traceback, nothing it found changed and no ``LOG.old.*``
files left behind. (Faults while running keep the queue-and-reopen behaviour: disk-full drill in
test_faults_storage.py.)
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.disk import fill, small_tmpfs
from tests.support.pipeline import pipeline_env
from tests.support.processes import Proc
from tests.support.waiting import free_port

_ROCKSDB_OWN = re.compile(r"(LOG|LOCK|rocksdict-config\.json)")  # no LOG.old.*: one attempt


def _digest(root: Path) -> dict[str, str]:
    if root.is_file():
        return {".": hashlib.sha256(root.read_bytes()).hexdigest()}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _regular_file(root: Path) -> tuple[Path, Path]:
    data_dir = root / "data"
    data_dir.mkdir()
    (data_dir / "rocksdb").write_bytes(b"someone's precious file, not a database\n" * 100)
    return data_dir, data_dir / "rocksdb"


def _under_a_file(root: Path) -> tuple[Path, Path]:
    blocker = root / "blocker"
    blocker.write_text("a file where a folder of the data dir should be\n")
    return blocker / "data", blocker


def _corrupt_manifest(root: Path) -> tuple[Path, Path]:
    data_dir = root / "data"
    db = data_dir / "rocksdb"
    db.mkdir(parents=True)
    (db / "CURRENT").write_text("MANIFEST-000042\n")
    (db / "MANIFEST-000042").write_bytes(os.urandom(4096))
    (db / "000041.sst").write_bytes(os.urandom(8192))
    (db / "notes.txt").write_text("not a RocksDB database\n")
    return data_dir, db


def run_writer(tmp_path: Path, data_dir: Path) -> tuple[int, str]:
    env = pipeline_env(tmp_path, free_port())
    env["BOOKSNAP_DATA_DIR"] = str(data_dir)
    writer = Proc("writer", [], tmp_path / "writer.log", env=env).start()
    assert writer.popen is not None
    try:
        code = writer.popen.wait(30)
    except subprocess.TimeoutExpired:
        writer.kill()
        pytest.fail(f"the writer kept running:\n{writer.log()[-3000:]}")
    return code, writer.log()


def error_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if " ERROR " in line]


@pytest.mark.parametrize(
    ("make", "cause"),
    [
        (_regular_file, "is not a directory"),
        (_under_a_file, "so the database cannot be created under it"),
        (_corrupt_manifest, "Corruption"),
    ],
)
def test_an_unusable_database_path_exits_1_with_one_error_line(
    tmp_path: Path, make: Callable[[Path], tuple[Path, Path]], cause: str
) -> None:
    data_dir, target = make(tmp_path)
    before = _digest(target)
    code, log = run_writer(tmp_path, data_dir)
    assert code == 1, log[-3000:]
    errors = error_lines(log)
    assert len(errors) == 1, log[-3000:]
    assert str(data_dir / "rocksdb") in errors[0]
    assert cause in errors[0]
    assert "Traceback" not in log
    assert "Writer ready" not in log
    after = _digest(target)
    assert {k: after.get(k) for k in before} == before, "existing files were changed"
    added = {Path(k).name for k in set(after) - set(before)}
    assert all(_ROCKSDB_OWN.fullmatch(name) for name in added), added


@pytest.fixture
def read_only_disk(tmp_path: Path) -> Iterator[Path]:
    """A real tmpfs remounted read-only (root cannot write there either)."""
    with small_tmpfs(tmp_path, "4m") as disk:
        (disk / "data").mkdir()
        remount = subprocess.run(
            ["mount", "-o", "remount,ro", str(disk)], capture_output=True, text=True, check=False
        )
        if remount.returncode != 0:
            pytest.skip(f"cannot remount read-only: {remount.stderr.strip()}")
        yield disk


def test_an_unwritable_data_dir_exits_1_with_one_error_line(
    tmp_path: Path, read_only_disk: Path
) -> None:
    data_dir = read_only_disk / "data"
    code, log = run_writer(tmp_path, data_dir)
    assert code == 1, log[-3000:]
    errors = error_lines(log)
    assert len(errors) == 1, log[-3000:]
    assert f"{data_dir} is not writable" in errors[0]
    assert "Traceback" not in log


def test_a_usable_path_still_starts_and_stops_cleanly(tmp_path: Path) -> None:
    env = pipeline_env(tmp_path, free_port())
    writer = Proc("writer", [], tmp_path / "writer.log", env=env).start()
    try:
        writer.wait_log("Writer ready", timeout=30)
        assert writer.stop() == 0
        assert not error_lines(writer.log())
    finally:
        writer.kill()


def test_a_full_disk_at_start_up_is_waited_out(tmp_path: Path) -> None:
    """A full disk may clear: the writer retries (as while running) and starts once it does."""
    with small_tmpfs(tmp_path, "4m") as disk:
        filler = fill(disk)
        env = pipeline_env(tmp_path, free_port())
        env["BOOKSNAP_DATA_DIR"] = str(disk / "data")
        writer = Proc("writer", [], tmp_path / "writer.log", env=env).start()
        try:
            writer.wait_log("Cannot open the database, retrying", timeout=30)
            assert "No space left on device" in writer.log()
            assert writer.alive()
            filler.unlink()
            writer.wait_log("Writer ready", timeout=30)
            assert writer.stop() == 0
        finally:
            writer.kill()


def test_a_writer_stopped_before_its_database_opens_never_claims_ready(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path, "4m") as disk:
        fill(disk)
        env = pipeline_env(tmp_path, free_port())
        env["BOOKSNAP_DATA_DIR"] = str(disk / "data")
        writer = Proc("writer", [], tmp_path / "writer.log", env=env).start()
        try:
            writer.wait_log("Cannot open the database, retrying", timeout=30)
            assert writer.stop() == 0
            assert "Stopped before the database could be opened" in writer.log()
            assert "Writer ready" not in writer.log()
        finally:
            writer.kill()
