"""A private umask makes a real RocksDB database 0700 folders and 0600 files."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from shared.private_files import (
    DIR_MODE,
    FILE_MODE,
    PRIVATE_UMASK,
    loose_paths,
    private_dir,
    use_private_umask,
)
from shared.storage import open_primary, open_secondary


@pytest.fixture
def restore_umask():
    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


def modes(root):
    return {p.relative_to(root).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*")}


def test_the_helper_sets_and_returns_the_umask(restore_umask):
    os.umask(0o022)
    assert use_private_umask() == 0o022
    assert use_private_umask() == PRIVATE_UMASK


def test_a_real_database_under_the_private_umask_is_private(tmp_path, restore_umask):
    os.umask(0o022)
    use_private_umask()
    data = private_dir(tmp_path / "data")
    db = open_primary(data / "db")
    for i in range(1000):
        db[b"BTCUSDT:%010d" % i] = b"x" * 100
    db.flush()
    reader = open_secondary(data / "db", data / "secondary")
    reader.try_catch_up_with_primary()
    reader.close()
    db.close()
    found = modes(data)
    assert any(name.endswith(".sst") for name in found)
    assert any(name.startswith("db/MANIFEST") for name in found)
    for name, mode in found.items():
        expected = DIR_MODE if (data / name).is_dir() else FILE_MODE
        assert mode == expected, f"{name}: {oct(mode)}"
    assert loose_paths(data) == []


def test_without_it_rocksdb_follows_the_usual_umask(tmp_path):
    """The control: what the helper prevents (run in a child so our umask stays untouched)."""
    script = textwrap.dedent(
        f"""
        import os
        os.umask(0o022)
        from shared.storage import open_primary
        db = open_primary({str(tmp_path / "db")!r})
        db[b"k"] = b"v"
        db.close()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    loose = dict(loose_paths(tmp_path / "db"))
    assert loose[tmp_path / "db"] == 0o755
    assert 0o644 in loose.values()


def test_an_existing_loose_folder_is_tightened(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    assert private_dir(folder) == folder
    assert stat.S_IMODE(folder.stat().st_mode) == DIR_MODE
    nested = private_dir(tmp_path / "a" / "b")
    assert stat.S_IMODE(nested.stat().st_mode) == DIR_MODE
