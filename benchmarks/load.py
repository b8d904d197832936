"""Section: many concurrent clients of one query process, one database worker beside the default.

A day of BTCUSDT-like data (``benchmarks.daydata``) is stored; ``python -m query`` is started on
it with ``--workers 1`` and then with its default (one per core), and for each, 16 and 64
closed-loop clients (``benchmarks.loadclients``) send a mix of live and stored-data requests for
a fixed time. Clients are threads spread over a few OS processes, each thread its own
QueryClient and TCP connection.

The query process counts a client by peer address plus CURVE key, and ZeroMQ's peer address is
the IP address alone (no port): every client on 127.0.0.1 is one client to its caps. So the
64-client runs are made twice: all from 127.0.0.1, and each from its own loopback source
address (127.0.0.2, ...; Linux routes all of 127/8 to lo), as 64 hosts would be.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from benchmarks.daydata import DAY, generate
from benchmarks.livebooks import LivePublisher
from benchmarks.loadclients import Kind, Tally, mix, run_clients
from benchmarks.pipeline import query_args
from benchmarks.result import Budget, Row, Section, ms, percentile, verdict
from booksnap.client import QueryClient
from query.config import QueryConfig
from query.worker import MAX_IN_FLIGHT, MAX_IN_FLIGHT_PER_CLIENT
from shared.config import field_default
from tests.support.processes import Proc
from tests.support.waiting import free_endpoint, poll_for

CLIENT_PROCESSES = 4
BUSY_GOAL = 0.01  # share of replies, 64 clients
P99_GOAL = 0.100  # analytics p99, 64 clients
LIVE = ("orderbook_l1 (live)", "orderbook_l2 20 (live)")


@dataclass(frozen=True)
class Case:
    clients: int
    own_addresses: bool  # each client from its own 127.0.0.N source address
    think: float = 0.0  # mean seconds between a reply and the next request (0: none)

    @property
    def label(self) -> str:
        where = "each from its own address" if self.own_addresses else "all from 127.0.0.1"
        pace = f", {self.think:g} s think time" if self.think else ""
        return f"{self.clients} clients, {where}{pace}"


CASES = (Case(16, False), Case(64, False), Case(64, True), Case(64, True, 1.0))


def _endpoints(endpoint: str, case: Case) -> list[str]:
    if not case.own_addresses:
        return [endpoint] * case.clients
    host_port = endpoint.removeprefix("tcp://")
    # ZeroMQ's "source;destination" form binds the connecting side to that source address.
    return [f"tcp://127.0.0.{2 + i}:0;{host_port}" for i in range(case.clients)]


def _runqueue_wait(pid: int) -> float:
    """Seconds the database workers' threads spent runnable but waiting for a CPU (schedstat)."""
    total = 0
    try:
        workers = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return 0.0
    for worker in workers:
        for task in Path(f"/proc/{worker.pid}/task").glob("*/schedstat"):
            try:
                total += int(task.read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue  # a thread that ended meanwhile, or no schedstat on this kernel
    return total / 1e9


def _cpu_seconds(pid: int) -> tuple[float, float]:
    """User+system CPU seconds of the main process and of its children (the database workers)."""
    main = workers = 0.0
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            if proc.pid == pid:
                main = times.user + times.system
            else:
                workers += times.user + times.system
    except psutil.Error:
        pass
    return main, workers


def _drive(endpoint: str, case: Case, kinds: list[Kind], seconds: float, pid: int) -> Measured:
    spawn = multiprocessing.get_context("spawn")
    out = spawn.Queue()
    endpoints = _endpoints(endpoint, case)
    start_at = time.time() + 3.0  # room for the spawned processes to import and connect
    stop_at = start_at + seconds
    procs = [
        spawn.Process(
            target=run_clients,
            args=(
                endpoints[i::CLIENT_PROCESSES],
                kinds,
                start_at,
                stop_at,
                i + 1,
                case.think,
                out,
            ),
            daemon=True,
        )
        for i in range(CLIENT_PROCESSES)
    ]
    for proc in procs:
        proc.start()
    time.sleep(max(0.0, start_at - time.time()))
    main_before, workers_before = _cpu_seconds(pid)
    wait_before = _runqueue_wait(pid)
    clients_before = sum(_cpu_seconds(p.pid)[0] for p in procs if p.pid is not None)
    time.sleep(max(0.0, stop_at - time.time()))
    main_after, workers_after = _cpu_seconds(pid)
    waited = (_runqueue_wait(pid) - wait_before) / seconds
    clients_after = sum(_cpu_seconds(p.pid)[0] for p in procs if p.pid is not None)
    cpu = ((main_after - main_before) / seconds, (workers_after - workers_before) / seconds)
    load = os.getloadavg()[0]
    tally = Tally()
    for _ in procs:
        tally.merge(out.get(timeout=seconds + 120))
    for proc in procs:
        proc.join(10)
    clients = (clients_after - clients_before) / seconds
    return Measured(case, seconds, tally, cpu, waited, clients, load)


@dataclass
class Measured:
    case: Case
    seconds: float
    tally: Tally
    query_cpu: tuple[float, float]  # cores used by the main process, by the database workers
    workers_waiting: float  # cores' worth of time the workers were runnable but not running
    clients_cpu: float  # cores used by the benchmark's own client processes (same machine)
    load_average: float  # the machine's 1-minute load average at the end (2 cores)

    @property
    def good(self) -> int:
        return sum(len(v) for v in self.tally.seconds.values())

    @property
    def replies(self) -> int:
        t = self.tally
        return self.good + sum(t.busy.values()) + sum(t.errors.values())

    @property
    def busy_share(self) -> float:
        return sum(self.tally.busy.values()) / self.replies if self.replies else 0.0

    def worker_ms_per_reply(self) -> float:
        """Database workers' CPU per stored-data reply: what one analytics request costs."""
        count = len(self.analytics())
        return self.query_cpu[1] * self.seconds * 1000 / count if count else 0.0

    def analytics(self) -> list[float]:
        return [s for k, v in self.tally.seconds.items() if k not in LIVE for s in v]


def _rows(workers: int, m: Measured) -> list[Row]:
    head = f"--workers {workers}, {m.case.label}"
    t = m.tally
    reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(t.busy_by_reason.items())) or "none"
    others = ", ".join(f"{k} {v:,}" for k, v in sorted(t.errors.items()))
    analytics = m.analytics()
    p99 = percentile(analytics, 99)
    gated = m.case.clients == 64
    rows = [
        Row(
            f"{head}: throughput",
            f"{m.good / m.seconds:,.0f} good replies/s ({m.replies / m.seconds:,.0f} replies/s)",
            f"CPU, % of one core: query main process {m.query_cpu[0] * 100:.0f}%, database "
            f"workers {m.query_cpu[1] * 100:.0f}% ({m.worker_ms_per_reply():.1f} ms per "
            f"stored-data reply), waiting for a CPU {m.workers_waiting * 100:.0f}%; the "
            f"client processes {m.clients_cpu * 100:.0f}%; machine "
            f"load average {m.load_average:.0f} on 2 cores",
            "",
            "",
            "",
        ),
        Row(
            f"{head}: busy replies",
            f"{m.busy_share * 100:.1f}% of {m.replies:,}",
            f"busy by cause: {reasons}"
            + (f"; other errors: {others}" if others else "")
            + (f"; timeouts {t.timeouts}" if t.timeouts else ""),
            "",
            f"< {BUSY_GOAL * 100:.0f}%" if gated else "",
            verdict(m.busy_share < BUSY_GOAL) if gated else "",
        ),
        Row(
            f"{head}: analytics (all stored-data kinds) p99",
            f"p50 {ms(percentile(analytics, 50))}, p99 {ms(p99)} (n={len(analytics):,})",
            "",
            "",
            f"p99 < {ms(P99_GOAL)}" if gated else "",
            verdict(p99 < P99_GOAL) if gated and analytics else "",
        ),
    ]
    per_kind = []
    for label in sorted(t.seconds):
        values = t.seconds[label]
        per_kind.append(
            f"{label} {ms(percentile(values, 50))} / {ms(percentile(values, 99))}"
            f" (n={len(values):,}, busy {t.busy.get(label, 0):,})"
        )
    rows.append(Row(f"{head}: p50 / p99 per kind", "; ".join(per_kind)))
    return rows


def run(budget: Budget) -> Section:
    section = Section("load", "Many clients of the query process", "python -m benchmarks load")
    seconds = 3_600 if budget.smoke else DAY
    per_case = 2.0 if budget.smoke else 12.0
    cases = CASES[2:] if budget.smoke else CASES  # smoke: the two cases the reading needs
    default_workers: int = field_default(QueryConfig, "workers")
    results: dict[int, list[Measured]] = {}
    with tempfile.TemporaryDirectory(prefix="booksnap-load-") as tmp:
        day = generate(Path(tmp), seconds)
        kinds = mix(day.symbol, day.end, seconds // 3600)
        for workers in sorted({1, default_workers}):
            endpoint, live = free_endpoint(), free_endpoint()
            args = [*query_args(tmp, endpoint, live), "--workers", str(workers)]
            proc = Proc("query", args, Path(tmp) / f"query-{workers}.log").start()
            try:
                with QueryClient(endpoint, timeout=60) as client, LivePublisher(live, day):
                    poll_for(lambda: client.request("status", {}), 60, 0.2, "the query process")
                    poll_for(lambda: client.request("orderbook_l1", {"symbol": day.symbol}), 30)
                    for _, method, params in kinds:  # warm each worker's caches a little
                        for _ in range(workers):
                            client.request(method, params)
                    results[workers] = [
                        _drive(endpoint, case, kinds, per_case, proc.pid) for case in cases
                    ]
            finally:
                proc.stop()
    for workers, measured in results.items():
        for m in measured:
            section.rows.extend(_rows(workers, m))
    section.notes = _notes(day.seconds, per_case, default_workers)
    section.reading = _reading(results, default_workers)
    return section


def _notes(seconds: int, per_case: float, default_workers: int) -> list[str]:
    return [
        f"Data: {seconds:,} stored seconds of BTCUSDT-like data (benchmarks.daydata) and a live "
        "100-level book published 10 times a second. The query process runs with `--workers 1` "
        f"and with its default ({default_workers} on this machine: one per core).",
        f"Each case runs {per_case:.0f} s. Clients are closed loops with no think time "
        "or with a think time of 0..2 s after each reply (mean 1 s, starts spread over 1 s), "
        f"{CLIENT_PROCESSES} OS processes of threads, each thread its own QueryClient (own "
        "socket, own TCP connection). Each request is drawn with equal weight from: "
        "orderbook_l1, orderbook_l2 (live, answered by the main process) and order flow 60 s, "
        "health 60 s, volume profile 24 h, market quality 300 s (stored data, answered by a "
        "database worker). After a BUSY reply a client waits 10 ms before its next request.",
        f"The pool's caps (query/worker.py): {MAX_IN_FLIGHT} database requests queued or "
        f"running in all, {MAX_IN_FLIGHT_PER_CLIENT} per client, where a client is its peer "
        "IP address plus its CURVE key; ZeroMQ's "
        "Peer-Address carries no port, so all clients on one host without keys (or sharing one "
        "key) are one client. 'each from its own address' connects each client from its own "
        "127.0.0.N source address.",
        "The machine is shared with other engineers' work (load average far above 2 at times): "
        "absolute figures are noisy; read the 1-worker / default comparison.",
    ]


def _reading(results: dict[int, list[Measured]], default_workers: int) -> str:
    by_case = {(w, m.case): m for w, ms_ in results.items() for m in ms_}
    one = by_case.get((1, CASES[2]))
    pool = by_case.get((default_workers, CASES[2]))
    paced = by_case.get((default_workers, CASES[3]))
    shared = by_case.get((default_workers, CASES[1]))
    if one is None or pool is None or paced is None:
        return "Incomplete run: see the rows."
    x_one, x_pool = (len(m.analytics()) / m.seconds for m in (one, pool))
    cost = pool.worker_ms_per_reply()
    ceiling = default_workers * 1000 / cost if cost else 0.0
    wait = MAX_IN_FLIGHT / ceiling if ceiling else 0.0
    text = (
        f"64 clients with no think time, each from its own address: {x_one:,.0f} stored-data "
        f"replies/s with one worker, {x_pool:,.0f}/s with {default_workers} "
        f"({x_pool / x_one:.1f}x), {pool.busy_share * 100:.0f}% busy, analytics p99 "
        f"{ms(percentile(pool.analytics(), 99))}: {_goals(pool)}. Why, measured: (1) the "
        f"pool admits {MAX_IN_FLIGHT} database requests in all; 64 clients that never pause "
        f"keep more than that waiting, so the rest are refused whatever the workers' speed "
        "(the busy causes above are the process cap), and each refused client comes back 10 ms "
        "later, so busy replies outnumber good ones. (2) A stored-data request costs the "
        f"workers {cost:.1f} ms of CPU here, so {default_workers} whole cores serve at most "
        f"~{ceiling:,.0f}/s; with {MAX_IN_FLIGHT} admitted requests queued, Little's law puts "
        f"the mean wait at {MAX_IN_FLIGHT} / {ceiling:,.0f} = {ms(wait)} even with both cores "
        f"free (p99 above that); here the workers got {pool.query_cpu[1] * 100:.0f}% of one "
        f"core and waited for one {pool.workers_waiting * 100:.0f}% of the time (runnable, "
        "not running: /proc schedstat), the benchmark's own clients took "
        f"{pool.clients_cpu * 100:.0f}% and the "
        f"machine's load average was {pool.load_average:.0f} on 2 cores. "
    )
    if shared is not None:
        text += (
            "(3) All clients of one host without keys count as one client (ZeroMQ's peer "
            f"address has no port): from 127.0.0.1 the {MAX_IN_FLIGHT_PER_CLIENT}-per-client "
            f"cap refuses first ({shared.busy_share * 100:.0f}% busy, per-client cap). "
        )
    return text + (
        "With a 1 s think time (a dashboard refreshing every second), 64 clients each from "
        f"their own address get {paced.busy_share * 100:.1f}% busy and analytics p99 "
        f"{ms(percentile(paced.analytics(), 99))}: {_goals(paced)}."
    )


def _goals(m: Measured) -> str:
    busy = m.busy_share < BUSY_GOAL
    p99 = percentile(m.analytics(), 99) < P99_GOAL
    if busy and p99:
        return "both goals met"
    if busy or p99:
        return f"the {'busy' if busy else 'p99'} goal met, the {'p99' if busy else 'busy'} not"
    return "both goals missed"
