"""The whole booksnap pipeline as real processes against the synthetic simulator, with sampling.

simulator (``--source synthetic``) → ``python -m collector`` (the supervisor, one child per
symbol) → ``python -m writer`` and ``python -m query``, all on free ports in a temp dir.
A sampler thread reads CPU and resident memory of each process tree with psutil.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psutil
from prometheus_client.parser import text_string_to_metric_families

from shared import storage
from shared.codec import decode_book, decode_trades
from tests.support.logs import STORED
from tests.support.processes import Proc, stop_all
from tests.support.waiting import free_endpoint, free_port, poll_for

ROLES = ("simulator", "collectors", "writer", "query")
# a writer log line with its own time stamp: (time, symbol, second)
STORED_AT = re.compile(
    rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}) .*" + STORED.pattern.encode() + rb"$", re.M
)

SUMMARY = re.compile(r"collector\[([A-Z0-9]+)\] collector\.service: summary (.*)$", re.M)
FIELD = re.compile(r"\b([a-z_]+)=(\d+)\b")
SUMMARY_INTERVAL = 10  # s between collector summary lines: their event counts give the rate


def symbols_for(count: int) -> list[str]:
    """``count`` synthetic symbols (the simulator gives each the same order-arrival rates)."""
    return [f"SYM{i:03d}USDT" for i in range(count)]


@dataclass
class Sample:
    at: float  # seconds since the sampler started
    cpu: dict[str, float]  # role → % of one core, summed over its process tree
    rss: dict[str, float]  # role → MB resident, summed
    processes: dict[str, int]
    uss: dict[str, float] = field(default_factory=dict)  # role → MB private (unique), summed
    pss: dict[str, float] = field(default_factory=dict)  # role → MB proportional share, summed


def private_memory(pid: int) -> tuple[float, float]:
    """(USS, PSS) in MB from ``/proc/<pid>/smaps_rollup``: the pages only this process holds,
    and its share of every page (RSS counts a page shared by N processes N times)."""
    uss = pss = 0
    with open(f"/proc/{pid}/smaps_rollup", "rb") as rollup:
        for line in rollup:
            if line.startswith((b"Private_Clean:", b"Private_Dirty:")):
                uss += int(line.split()[1])
            elif line.startswith(b"Pss:"):
                pss += int(line.split()[1])
    return uss / 1024, pss / 1024


class Sampler:
    """Samples every ``interval`` seconds in a thread until ``stop()``."""

    def __init__(self, roots: dict[str, int], interval: float) -> None:
        self.roots = roots
        self.interval = interval
        self.samples: list[Sample] = []
        self._known: dict[int, psutil.Process] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = 0.0

    def start(self) -> Sampler:
        self._started = time.monotonic()
        self._take(record=False)  # primes cpu_percent
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._take(record=True)

    def _tree(self, pid: int) -> list[psutil.Process]:
        try:
            root = self._known.setdefault(pid, psutil.Process(pid))
            found = [root]
            for child in root.children(recursive=True):
                found.append(self._known.setdefault(child.pid, child))
            return found
        except psutil.Error:
            return []

    def _take(self, record: bool) -> None:
        cpu: dict[str, float] = defaultdict(float)
        rss: dict[str, float] = defaultdict(float)
        uss: dict[str, float] = defaultdict(float)
        pss: dict[str, float] = defaultdict(float)
        count: dict[str, int] = defaultdict(int)
        for role, pid in self.roots.items():
            for proc in self._tree(pid):
                try:
                    cpu[role] += proc.cpu_percent(None)
                    rss[role] += proc.memory_info().rss / 1e6
                    if record:
                        private, share = private_memory(proc.pid)
                        uss[role] += private
                        pss[role] += share
                    count[role] += 1
                except (psutil.Error, OSError):
                    continue
        if record:
            at = time.monotonic() - self._started
            self.samples.append(Sample(at, dict(cpu), dict(rss), dict(count), dict(uss), dict(pss)))


@dataclass
class Stored:
    """What the writer stored for one symbol in the measured window."""

    seconds: set[int] = field(default_factory=set)
    event_lag: list[float] = field(default_factory=list)  # durable time - ts_event, s
    second_lag: list[float] = field(default_factory=list)  # durable time - end of the second, s
    recv_lag: list[float] = field(default_factory=list)  # ts_recv - ts_event, s
    update_ids: list[int] = field(default_factory=list)  # the book's update id per record
    trades: int = 0  # aggregate trades stored with those records


def query_args(data_dir: str, endpoint: str, live: str) -> list[str]:
    """``python -m query`` arguments: its request and live endpoints, a free feed endpoint."""
    return [
        "--data-dir",
        data_dir,
        "--endpoint",
        endpoint,
        "--live-endpoint",
        live,
        "--feed-endpoint",
        free_endpoint(),
        "--log-level",
        "WARNING",
    ]


class Pipeline:
    """Starts the four kinds of process; ``stop()`` ends them in reverse order."""

    def __init__(
        self,
        tmp: Path,
        symbols: list[str],
        sim_args: tuple[str, ...] = (),
        writer_args: tuple[str, ...] = (),
    ) -> None:
        self.tmp = tmp
        self.symbols = symbols
        self.sim_args = sim_args  # after the defaults, so they win
        self.writer_args = writer_args
        self.port = 0
        self.procs: dict[str, Proc] = {}

    def start(self) -> None:
        port = self.port = free_port()
        ingest, backfill, live = free_endpoint(), free_endpoint(), free_endpoint()
        names = ",".join(self.symbols)
        data = str(self.tmp / "data")
        specs = [
            (
                "simulator",
                [
                    "--port",
                    str(port),
                    "--symbols",
                    names,
                    "--source",
                    "synthetic",
                    "--weight-limit",
                    "10000000",
                    "--log-level",
                    "INFO",
                    *self.sim_args,
                ],
            ),
            (
                "writer",
                [
                    "--data-dir",
                    data,
                    "--ingest-endpoint",
                    ingest,
                    "--backfill-endpoint",
                    backfill,
                    "--symbols",
                    names,
                    "--log-level",
                    "INFO",
                    *self.writer_args,
                ],
            ),
            ("query", [*query_args(data, free_endpoint(), live), "--symbols", names]),
            (
                "collectors",
                [
                    "--symbols",
                    names,
                    "--rest-url",
                    f"http://127.0.0.1:{port}",
                    "--ws-url",
                    f"ws://127.0.0.1:{port}",
                    "--ingest-endpoint",
                    ingest,
                    "--live-endpoint",
                    live,
                    "--backfill-endpoint",
                    backfill,
                    "--log-level",
                    "INFO",
                    "--summary-interval",
                    str(SUMMARY_INTERVAL),
                ],
            ),
        ]
        for role, args in specs:
            module = "collector" if role == "collectors" else role
            proc = Proc(module, args, self.tmp / f"{role}.log").start()
            self.procs[role] = proc
            if role == "simulator":
                proc.wait_log("Simulator listening", 60)

    def roots(self) -> dict[str, int]:
        return {role: proc.pid for role, proc in self.procs.items()}

    def writer_metric(self, port: int, name: str) -> dict[str, float]:
        """The samples of one metric on the writer's exporter (started with ``--metrics-port
        port`` in ``writer_args``), by their labels' values joined with ","; {} when it does
        not answer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
                text = reply.read().decode()
        except OSError:
            return {}
        return {
            ",".join(sample.labels.values()): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name
        }

    def writer_log(self) -> bytes:
        path = self.procs["writer"].log_path
        return path.read_bytes() if path.exists() else b""

    def wait_all_stored(self, timeout: float) -> float:
        """Seconds until every symbol has a stored record (or ``timeout``)."""
        started = time.monotonic()
        wanted = set(self.symbols)

        def all_seen() -> bool:
            seen = {m.group(2).decode() for m in STORED_AT.finditer(self.writer_log())}
            return wanted <= seen

        with contextlib.suppress(AssertionError):  # not all synced: measure what there is
            poll_for(all_seen, timeout, 1.0)
        return time.monotonic() - started

    def casualties(self) -> dict[str, str]:
        """Processes that ended on their own: role → exit code and the last line they logged."""
        found = {}
        for role, proc in self.procs.items():
            if proc.popen is None or proc.alive():
                continue
            lines = [
                line
                for line in proc.log().splitlines()
                if line.strip() and "Stored snapshot" not in line
            ]
            last = lines[-1][:300] if lines else "(no output)"
            found[role] = f"exit code {proc.popen.returncode}; last line: {last}"
        return found

    def collector_counters(self) -> dict[str, int]:
        """Resyncs, late trades, skipped seconds, number-cache entries: from the summary lines.

        ``resyncs`` is per summary interval (summed); the others are cumulative per symbol
        (the last line of each symbol counts).
        """
        path = self.procs["collectors"].log_path
        text = path.read_text(errors="replace") if path.exists() else ""
        resyncs = events = lines = 0
        last: dict[str, dict[str, int]] = {}
        for match in SUMMARY.finditer(text):
            fields = dict(FIELD.findall(match.group(2)))
            resyncs += int(fields.get("resyncs", 0))
            events += int(fields.get("events", 0))
            lines += 1
            last[match.group(1)] = {k: int(v) for k, v in fields.items()}
        totals = {"resyncs": resyncs, "summaries": len(last), "events": events, "lines": lines}
        for key in ("late_trades", "unrecorded_trades", "skipped_seconds", "number_cache"):
            totals[key] = sum(f.get(key, 0) for f in last.values())
        return totals

    def stop(self) -> dict[str, int]:
        codes: dict[str, int] = {}
        stop_all(list(self.procs.values()), 15)
        for role, proc in self.procs.items():
            assert proc.popen is not None
            codes[role] = int(proc.popen.returncode) if proc.popen.returncode is not None else -1
        return codes

    def collect(self, first: int, last: int) -> dict[str, Stored]:
        """Stored seconds first..last per symbol and their lags (call after ``stop``)."""
        durable: dict[tuple[str, int], float] = {}
        for match in STORED_AT.finditer(self.writer_log()):
            stamp = datetime.strptime(match.group(1).decode(), "%Y-%m-%dT%H:%M:%S.%f")
            durable[(match.group(2).decode(), int(match.group(3)))] = stamp.timestamp()
        result = {symbol: Stored() for symbol in self.symbols}
        db = storage.open_primary(storage.db_path(self.tmp / "data"))
        try:
            family = db.get_column_family(storage.SNAPSHOTS_CF)
            for symbol, stored in result.items():
                for second, value in storage.iter_range(family, symbol, first, last):
                    stored.seconds.add(second)
                    snap = decode_book(value)
                    stored.recv_lag.append((snap.ts_recv - snap.ts_event) / 1000)
                    stored.update_ids.append(snap.update_id)
                    at = durable.get((symbol, second))
                    if at is not None:
                        stored.event_lag.append(at - snap.ts_event / 1000)
                        stored.second_lag.append(at - (second + 1))
            trades = db.get_column_family(storage.TRADES_CF)
            for symbol, stored in result.items():
                for _, value in storage.iter_range(trades, symbol, first, last):
                    stored.trades += len(decode_trades(value).trades)
            del family, trades
        finally:
            db.close()
        return result
