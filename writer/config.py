"""The writer's settings: one frozen, validated dataclass built by ``__main__``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared import times
from shared.config import (
    DEFAULT_BACKFILL_ENDPOINT,
    DEFAULT_INGEST_ENDPOINT,
    DEFAULT_SYMBOLS,
    check_dir,
    check_endpoint,
    check_int_range,
    check_range,
)
from shared.errors import ConfigError
from shared.storage import db_path

DAY = times.DAY
PENDING_MINUTES = 20  # records held in memory while the disk is unavailable (at least 10 min)


def parse_duration(option: str, text: str) -> int:
    """``shared.times.parse_duration`` of an option's value; ConfigError naming it if not one."""
    try:
        return times.parse_duration(text)
    except ValueError as exc:
        raise ConfigError(option, str(exc)) from None


@dataclass(frozen=True)
class WriterConfig:
    """Everything the writer needs; ``__post_init__`` rejects any invalid value."""

    data_dir: Path
    ingest_endpoint: str = DEFAULT_INGEST_ENDPOINT
    backfill_endpoint: str = DEFAULT_BACKFILL_ENDPOINT
    symbols: tuple[str, ...] = DEFAULT_SYMBOLS  # stored; records of any other symbol are rejected
    retention_seconds: int = 7 * DAY
    retention_interval: float = 3600.0  # how often old data is range-deleted
    pending_capacity: int = 0  # records; 0 = PENDING_MINUTES of every configured symbol
    flush_interval: float = 0.1  # a record is WAL-synced at most this long after arrival
    max_batch: int = 1000  # records per synced WriteBatch
    status_interval: float = 2.0  # how often the status record goes to the meta family
    max_age: int = DAY  # oldest second accepted from the live stream or a backfill
    max_ahead: int = 60  # seconds a record may be ahead of this machine's clock
    keys_dir: str | None = None  # CURVE keys (shared/security.py); None: plain, loopback only
    insecure: bool = False  # allow plain sockets on addresses other hosts can reach
    reopen_min_delay: float = 0.5  # backoff while the database cannot be (re)opened
    reopen_max_delay: float = 5.0
    fetch_timeout: float = 10.0  # a backfill fetch without "done" by then is retried
    shutdown_budget: float = 3.5  # of honcho's 5 s: drain + flush + close
    hole_window: int = 1800  # at start-up, look for missing seconds this far back (buffers: 15 min)

    def __post_init__(self) -> None:
        check_endpoint("--ingest-endpoint", self.ingest_endpoint)
        check_endpoint("--backfill-endpoint", self.backfill_endpoint)
        if self.ingest_endpoint == self.backfill_endpoint:
            raise ConfigError("--backfill-endpoint", "must differ from --ingest-endpoint")
        check_int_range("--retention", self.retention_seconds, 1, 3650 * DAY)
        check_range("--retention-interval", self.retention_interval, 0.1, 7 * DAY)
        check_int_range("--pending-capacity", self.pending_capacity, 0, 10_000_000)
        check_range("flush_interval", self.flush_interval, 0.001, 1.0)
        check_int_range("max_batch", self.max_batch, 1, 100_000)
        check_dir("--data-dir", self.data_dir)

    @property
    def db_path(self) -> Path:
        return db_path(self.data_dir)

    @property
    def capacity(self) -> int:
        """Records the pending queue holds: at least 10 minutes of every configured symbol."""
        return self.pending_capacity or max(2, len(self.symbols)) * PENDING_MINUTES * 60
