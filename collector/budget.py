"""The REST weight budget of a host: one token bucket that every collector process draws from.

Binance counts request weight per IP: 6,000 per minute, 429 above it, then 418 (a ban) for a
client that keeps asking. One process per symbol means hundreds of processes share that figure,
so no process may spend from a private allowance. The bucket lives in an 8-byte file (on
``/dev/shm`` where it exists), read and written under an exclusive ``flock``. The supervisor
and its children, and collectors started on their own, all use the default file of their REST
host (or ``--rest-budget-file``); stale state in it only means a full bucket.

It is a *reservation* bucket (the generic cell rate algorithm): ``reserve(weight)`` books the
earliest time at which the request fits and says how long to wait for it, so requests are
granted first come, first served, and a waiting process never asks again (no retry storm of
hundreds of processes). Rate ``budget / 60 * 3/4`` per second, burst ``budget / 4``: in any
60 s window no more than ``burst + 60 * rate = budget`` is granted, whatever the window's
alignment (Binance's fixed minute included). The herd of 400 symbols resyncing at once is
thereby staggered at the refill rate with no coordination beyond the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from shared.clock import Clock

_STATE = struct.Struct("<d")  # the theoretical arrival time (wall clock, s) of the next grant
BURST_SHARE = 0.25  # of the per-minute budget that may go at once


def default_budget_file(rest_url: str) -> Path:
    """One file per REST host (and user): the collectors that share an IP's limit share it."""
    parts = urlsplit(rest_url)
    host = re.sub(r"[^A-Za-z0-9.-]", "_", f"{parts.hostname}-{parts.port or parts.scheme}")
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    return base / f"booksnap-rest-{os.getuid()}-{host}"


class HostBudget:
    """A reservation bucket of request weight in a file shared by processes."""

    def __init__(self, path: Path, per_minute: int, clock: Clock) -> None:
        self.path = path
        self.burst = per_minute * BURST_SHARE
        self.rate = (per_minute - self.burst) / 60.0  # weight per second
        self._clock = clock

    def reserve(self, weight: int) -> float:
        """Book ``weight``; returns the seconds until the request may go (0.0: now)."""
        with self._locked() as fd:
            now = self._clock.now()
            raw = os.pread(fd, _STATE.size, 0)
            tat = _STATE.unpack(raw)[0] if len(raw) == _STATE.size else now  # new: full
            if tat > now + 3600.0:
                tat = now  # the wall clock went back a long way: start over
            tolerance = max(0.0, self.burst - weight) / self.rate  # at once: the burst, no more
            go_at = max(now, tat - tolerance)
            os.pwrite(fd, _STATE.pack(max(tat, go_at) + weight / self.rate), 0)
            return go_at - now

    @contextlib.contextmanager
    def _locked(self) -> Iterator[int]:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # closing releases the lock
