"""The scale section's REST view: what the simulator charged and refused, and the herd drill.

The herd: every WebSocket connection is dropped at once (``POST /admin/fault`` disconnect), so
every collector reconnects and asks for a snapshot together, as after a network blip. Measured:
seconds until every symbol's book is in sync again (the collectors' ``synced`` lines) and until
every symbol has a record stored from after that (the writer's ``Stored snapshot`` lines), and
every reply the simulator's weight limiter gave meanwhile (429 and 418 included).
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime

from benchmarks.pipeline import Pipeline

TIMEOUT = 300.0
STAMP = r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) "
SYNCED = re.compile(STAMP + r".*collector\.resync: synced ([A-Z0-9]+) at snapshot", re.M)
STORED = re.compile(STAMP + r".*Stored snapshot for ([A-Z0-9]+) at (\d+)$", re.M)
WAITED = re.compile(STAMP + r".*host REST budget: this snapshot may go in ([0-9.]+) s", re.M)


@dataclass(frozen=True)
class RestTally:
    """The simulator's REST replies by status, and the weight it charged, since it started."""

    statuses: dict[str, int] = field(default_factory=dict)
    weight: int = 0

    def since(self, before: RestTally) -> RestTally:
        statuses = {k: v - before.statuses.get(k, 0) for k, v in self.statuses.items()}
        return RestTally({k: v for k, v in statuses.items() if v}, self.weight - before.weight)

    @property
    def refused(self) -> int:
        """Replies 429 (over the limit) and 418 (banned)."""
        return self.statuses.get("429", 0) + self.statuses.get("418", 0)


@dataclass(frozen=True)
class HerdResult:
    symbols: int = 0
    resynced: int = 0
    stored_again: int = 0
    synced_median: float = 0.0  # s from the drop until half the symbols were in sync
    synced_after: float = 0.0  # s from the drop until the last symbol was in sync
    stored_after: float = 0.0  # s until the last symbol had a record from after its resync
    budget_waits: int = 0  # snapshots the host's bucket made wait
    longest_wait: float = 0.0  # s, the longest of those waits
    rest: RestTally = RestTally()


def budget_waits(log: str, since: float, until: float) -> list[float]:
    """The waits the host's REST bucket booked between ``since`` and ``until`` (log times)."""
    return [float(w) for t, w in WAITED.findall(log) if since <= _stamp(t) <= until]


def admin(pipeline: Pipeline, path: str, body: dict[str, object] | None = None) -> dict:
    """The simulator's admin API: GET ``path``, or POST ``body`` to it."""
    url = f"http://127.0.0.1:{pipeline.port}{path}"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as reply:
        result: dict = json.loads(reply.read())
    return result


def rest_tally(pipeline: Pipeline) -> RestTally:
    state = admin(pipeline, "/admin/state")
    return RestTally(dict(state["rest_statuses"]), int(state["weight_charged"]))


def herd(pipeline: Pipeline) -> HerdResult:
    """Drop every connection at once and wait until every symbol stores again."""
    before = rest_tally(pipeline)
    started = time.time()
    admin(pipeline, "/admin/fault", {"fault": "disconnect"})
    wanted = set(pipeline.symbols)
    synced: dict[str, float] = {}
    stored: dict[str, float] = {}
    while time.time() < started + TIMEOUT and len(stored) < len(wanted):
        time.sleep(1.0)
        for stamp, symbol in SYNCED.findall(pipeline.procs["collectors"].log()):
            at = _stamp(stamp)
            if at > started and symbol not in synced:
                synced[symbol] = at
        for stamp, symbol, second in STORED.findall(pipeline.writer_log().decode()):
            if symbol in synced and symbol not in stored and int(second) + 1 > synced[symbol]:
                stored[symbol] = _stamp(stamp)
    waits = budget_waits(pipeline.procs["collectors"].log(), started, time.time())
    delays = sorted(at - started for at in synced.values())
    return HerdResult(
        symbols=len(wanted),
        resynced=len(synced),
        stored_again=len(stored),
        synced_median=delays[len(delays) // 2] if delays else 0.0,
        synced_after=max(synced.values(), default=started) - started,
        budget_waits=len(waits),
        longest_wait=max(waits, default=0.0),
        stored_after=max(stored.values(), default=started) - started,
        rest=rest_tally(pipeline).since(before),
    )


def _stamp(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").timestamp()
