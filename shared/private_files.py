"""Files only the service's own user can read: data folders 0700, files 0600.

RocksDB creates its files with the process umask (0644 and 0755 under the usual 022), so a
database on a shared machine would be readable by every local user. The writer and query
processes call ``use_private_umask()`` first thing in ``main()``, before opening anything, and
``private_dir()`` for the data folder they own (a folder that already exists is tightened to
0700; its existing files are not rewritten). The umask is process-wide: call it from the main
thread at start-up only, never from a library or a test without restoring it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600


def use_private_umask() -> int:
    """Set the process umask so new files are 0600 and new folders 0700; returns the old one."""
    return os.umask(PRIVATE_UMASK)


def private_dir(path: str | Path) -> Path:
    """Create ``path`` (and missing parents) as 0700, or tighten an existing folder to 0700."""
    folder = Path(path)
    folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if stat.S_IMODE(folder.stat().st_mode) != DIR_MODE:
        folder.chmod(DIR_MODE)
    return folder


def loose_paths(root: str | Path) -> list[tuple[Path, int]]:
    """Everything under ``root`` (itself included) that others can read, write or enter."""
    found: list[tuple[Path, int]] = []
    base = Path(root)
    for path in (base, *sorted(base.rglob("*"))):
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append((path, mode))
    return found
