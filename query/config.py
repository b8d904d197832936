"""QueryConfig: the validated settings of the query process."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from shared import storage
from shared.config import (
    DEFAULT_LOG_LEVEL,
    DEFAULT_SYMBOLS,
    check_dir,
    check_endpoint,
    check_int_range,
    check_log_level,
    check_range,
)
from shared.errors import ConfigError

SECONDARY_PREFIX = "secondary-"


@dataclass(frozen=True, slots=True)
class QueryConfig:
    data_dir: Path
    secondary_dir: Path
    query_endpoint: str
    live_endpoint: str
    feed_endpoint: str
    log_level: str = DEFAULT_LOG_LEVEL
    reopen_seconds: float = 1.0  # how often to retry opening a database that is not there yet
    remove_secondary_dir: bool = True  # the default per-pid dir is ours alone: tidy it on exit
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS  # live books of other symbols are rejected
    workers: int = max(1, min(8, os.cpu_count() or 1))  # database worker processes
    request_deadline: float = 10.0  # seconds a database request may run before it is stopped
    keys_dir: str | None = None  # CURVE keys (shared/security.py); None: plain, loopback only
    insecure: bool = False  # allow plain sockets on addresses other hosts can reach

    def __post_init__(self) -> None:
        check_dir("--data-dir", self.data_dir)
        check_dir("--secondary-dir", self.secondary_dir)
        check_endpoint("--endpoint", self.query_endpoint)
        check_endpoint("--live-endpoint", self.live_endpoint)
        check_endpoint("--feed-endpoint", self.feed_endpoint)
        check_log_level("--log-level", self.log_level)
        check_range("--reopen-seconds", self.reopen_seconds, 0.05, 60.0)
        check_int_range("--workers", self.workers, 1, 64)
        check_range("--request-deadline", self.request_deadline, 0.5, 600.0)
        if len({self.query_endpoint, self.live_endpoint, self.feed_endpoint}) != 3:
            raise ConfigError("--endpoint", "the query, live and feed endpoints must differ")

    @property
    def db_path(self) -> Path:
        return storage.db_path(self.data_dir)

    @staticmethod
    def default_secondary_dir(data_dir: Path) -> Path:
        """``<data-dir>/secondary-<pid>``: one per process, so two query processes never share."""
        return data_dir / f"{SECONDARY_PREFIX}{os.getpid()}"


def remove_stale_secondary_dirs(data_dir: Path) -> list[Path]:
    """Delete ``secondary-<pid>`` dirs left by query processes that were killed (pid is gone)."""
    removed: list[Path] = []
    if not data_dir.is_dir():
        return removed
    for path in data_dir.glob(f"{SECONDARY_PREFIX}*"):
        pid_text = path.name.removeprefix(SECONDARY_PREFIX)
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _alive(int(pid_text)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
