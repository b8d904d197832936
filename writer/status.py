"""The writer's counters, the status record it keeps in the ``meta`` family, and rejection logs.

The status record (key ``status`` in CF ``meta``, msgpack, documented in docs/storage.md) lets the
query process show how the writer is doing through its secondary instance.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgpack

from shared.model import SCHEMA_VERSION

if TYPE_CHECKING:
    from writer.pending import Record

log = logging.getLogger(__name__)

HOUR = 3600.0
MINUTE = 60.0


@dataclass(slots=True)
class SymbolCounters:
    """What the writer did for one symbol."""

    stored_at: deque[float] = field(default_factory=deque)  # wall times of stores, last hour
    last_stored: int | None = None  # newest unix second stored
    gaps: int = 0  # gaps detected (sequence or seconds)
    missing_seconds: int = 0  # seconds those gaps spanned
    backfilled: int = 0  # seconds stored from a collector's buffer
    stored_total: int = 0  # seconds stored since start (the Prometheus counter)
    checks: int = 0  # the collector's self-check comparisons (its latest hello)
    mismatches: int = 0


class WriterStatus:
    """Counters for the ``status`` view; ``encode()`` gives the record stored in ``meta``."""

    def __init__(self, started: float, pid: int) -> None:
        self.started = started
        self.pid = pid
        self.symbols: dict[str, SymbolCounters] = {}
        self.rejected: Counter[str] = Counter()
        self.write_errors = 0
        self.dropped = 0  # records pushed out of a full pending queue
        self.store_state = "starting"

    def symbol(self, symbol: str) -> SymbolCounters:
        counters = self.symbols.get(symbol)  # (setdefault would build a throwaway per record)
        if counters is None:
            counters = self.symbols[symbol] = SymbolCounters()
        return counters

    def stored(self, records: Iterable[Record], now: float) -> None:
        """Count records made durable at ``now``."""
        symbol, counters = "", None
        for record in records:
            if counters is None or record.symbol != symbol:  # looked up once per run of a symbol
                symbol = record.symbol
                counters = self.symbol(symbol)
            counters.stored_at.append(now)
            counters.stored_total += 1
            second = record.second
            if counters.last_stored is None or second > counters.last_stored:
                counters.last_stored = second
            counters.backfilled += record.backfilled

    def gap(self, symbol: str, seconds: int) -> None:
        counters = self.symbol(symbol)
        counters.gaps += 1
        counters.missing_seconds += max(0, seconds)

    def encode(self, now: float, pending: int, backfill_ranges: int, unrecoverable: int) -> bytes:
        """The msgpack status record (see docs/storage.md, "The status record")."""
        symbols: dict[str, Any] = {}
        for name, counters in sorted(self.symbols.items()):
            stores = counters.stored_at
            while stores and stores[0] < now - HOUR:
                stores.popleft()
            symbols[name] = {
                "last": counters.last_stored or 0,
                "minute": sum(1 for t in stores if t >= now - MINUTE),
                "hour": len(stores),
                "gaps": counters.gaps,
                "missing": counters.missing_seconds,
                "backfilled": counters.backfilled,
                "selfcheck_checks": counters.checks,
                "selfcheck_mismatches": counters.mismatches,
            }
        record = {
            "v": SCHEMA_VERSION,
            "updated": int(now),
            "started": int(self.started),
            "pid": self.pid,
            "store": self.store_state,
            "pending": pending,
            "dropped": self.dropped,
            "write_errors": self.write_errors,
            "backfill_ranges": backfill_ranges,
            "unrecoverable": unrecoverable,
            "rejected": dict(sorted(self.rejected.items())),
            "symbols": symbols,
        }
        return msgpack.packb(record, use_bin_type=True)


class RejectLog:
    """Logs rejected messages without flooding: the first of each reason, then a summary.

    Every rejection is counted (``WriterStatus.rejected``); at most one line per reason per
    ``interval`` seconds names a concrete cause, and a summary gives the counts of the rest.
    """

    def __init__(self, status: WriterStatus, interval: float = 10.0) -> None:
        self.status = status
        self.interval = interval
        self._window: Counter[str] = Counter()
        self._window_start: float | None = None

    def reject(self, reason: str, detail: str, monotonic: float) -> None:
        self.status.rejected[reason] += 1
        if self._window_start is None:
            self._window_start = monotonic
        if self._window[reason] == 0:
            log.error("Rejected a message (%s): %s", reason, detail)
        self._window[reason] += 1

    def flush(self, monotonic: float, force: bool = False) -> None:
        """Log the summary of the window if it is over (or ``force``), then start a new one."""
        if self._window_start is None:
            return
        if not force and monotonic - self._window_start < self.interval:
            return
        repeats = {reason: count - 1 for reason, count in self._window.items() if count > 1}
        if repeats:
            log.error(
                "Rejected %d more messages in the last %.0f s: %s",
                sum(repeats.values()),
                monotonic - self._window_start,
                ", ".join(f"{reason}={count}" for reason, count in sorted(repeats.items())),
            )
        self._window.clear()
        self._window_start = None
