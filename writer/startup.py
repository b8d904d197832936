"""Opening the database at start-up: a path that can never be a database is a config error.

While running, a failed write is a fault that may clear (a full disk is freed, a disk comes
back), so the writer queues records and reopens with backoff (``writer.persister``). At
start-up nothing is queued yet, and a path that is a regular file, lies under one, cannot be
written, or holds a corrupt database will not heal by retrying: each retry only left another
``LOG.old.*`` file. So the first open decides: a permanent cause raises ``DatabaseUnusable``
(``python -m writer`` logs one ERROR line naming the path and the cause and exits 1); only a
full disk keeps today's retry loop.
"""

from __future__ import annotations

import os
from pathlib import Path

from shared.errors import StoreUnavailable
from writer.store import SnapshotStore

# RocksDB messages of faults that can clear while the writer waits.
TRANSIENT_CAUSES = ("No space left on device", "Disk quota exceeded")


class DatabaseUnusable(StoreUnavailable):
    """The database path can never be opened as it is; the message names path and cause."""


def path_problem(path: Path) -> str | None:
    """Why ``path`` can never hold the database, judged without touching it; None if it may."""
    if path.exists() and not path.is_dir():
        return "it exists and is not a directory (a database is a directory)"
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            return None
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a directory, so the database cannot be created under it"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def is_transient(cause: str) -> bool:
    return any(text in cause for text in TRANSIENT_CAUSES)


def open_at_start(store: SnapshotStore) -> bool:
    """Open once: True if open, False for a transient fault, DatabaseUnusable if permanent."""
    problem = path_problem(store.path)
    if problem is not None:
        raise DatabaseUnusable(f"cannot use {store.path}: {problem}")
    try:
        store.open()
    except StoreUnavailable as exc:
        if is_transient(str(exc)):
            return False
        raise DatabaseUnusable(str(exc)) from None
    return True
