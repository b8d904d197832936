"""Per-minute counters of one collector and the summary line they produce."""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields

log = logging.getLogger(__name__)

MALFORMED_LOGS_PER_INTERVAL = 5  # after these, malformed frames are only counted


@dataclass
class Counters:
    """Events since the last summary line."""

    records: int = 0  # snap.<SYM> records published
    live: int = 0  # book.<SYM> messages published
    events: int = 0  # depth events applied
    trades: int = 0  # aggregate trades taken into seconds
    resyncs: int = 0  # times the book became invalid (gap, crossed, connection lost)
    malformed: int = 0  # frames that failed to parse
    reconnects: int = 0
    silent: int = 0  # seconds without a record because the stream had gone quiet
    partial: int = 0  # synced seconds without a record: their trades began before the connection
    snapshots: int = 0  # REST snapshots fetched
    checks: int = 0  # self-check comparisons of the book with a bookTicker
    mismatches: int = 0  # of them, the book differed (each forced a resync)
    beyond_depth: int = 0  # resyncs because a record's levels left the snapshot's horizon
    lag_sum: int = 0  # sum of (receive time - E) over applied events, ms
    lag_max: int = 0  # ms

    def reset(self) -> None:
        for item in fields(self):
            setattr(self, item.name, 0)

    def observe_lag(self, lag_ms: int) -> None:
        self.lag_sum += lag_ms
        self.lag_max = max(self.lag_max, lag_ms)

    def should_log_malformed(self) -> bool:
        """True for the first few malformed frames of an interval, so a flood stays one line."""
        return self.malformed <= MALFORMED_LOGS_PER_INTERVAL

    def line(self, seconds: float, synced: bool, extra: str) -> str:
        lag = f"{self.lag_sum / self.events:.0f}" if self.events else "-"
        return (
            f"summary {seconds:.0f}s: records={self.records} live={self.live} "
            f"events={self.events} trades={self.trades} resyncs={self.resyncs} "
            f"reconnects={self.reconnects} snapshots={self.snapshots} silent={self.silent} "
            f"partial={self.partial} beyond_depth={self.beyond_depth} checks={self.checks} "
            f"mismatches={self.mismatches} "
            f"malformed={self.malformed} lag_ms avg={lag} max={self.lag_max} "
            f"synced={'yes' if synced else 'no'} {extra}"
        ).rstrip()
