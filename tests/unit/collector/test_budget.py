"""The host's shared REST weight bucket: never more than the budget in any 60 s window, first
come first served, and consistent when many processes book at once."""

from __future__ import annotations

import itertools
import multiprocessing
import time
from pathlib import Path

from collector.budget import HostBudget, default_budget_file
from collector.rest import RestGate
from shared.clock import SystemClock
from tests.support.clock import FakeClock


def grants(budget: HostBudget, clock: FakeClock, weight: int, count: int) -> list[float]:
    """When each of ``count`` requests, all asked for at the clock's time, may go."""
    return [clock.t + budget.reserve(weight) for _ in range(count)]


def test_a_herd_is_granted_the_burst_then_paced_and_never_over_budget(tmp_path):
    clock = FakeClock(1_000_020.0)
    # Two processes' views of one file: they share one budget.
    one = HostBudget(tmp_path / "bucket", 6000, clock)
    two = HostBudget(tmp_path / "bucket", 6000, clock)

    times = sorted(grants(one, clock, 50, 200) + grants(two, clock, 50, 200))

    assert sum(1 for t in times if t == clock.t) == 1500 // 50  # the burst: a quarter at once
    assert times[-1] - times[0] > 60  # 20,000 weight cannot go within a minute
    for start in times:  # any 60 s window (starting at a grant) holds at most the budget
        assert 50 * sum(1 for t in times if start <= t < start + 60) <= 6000
    # paced evenly after the burst: 4,500 per minute = one 50-weight request every 0.667 s
    gaps = [b - a for a, b in itertools.pairwise(times[29:])]
    assert max(gaps) - min(gaps) < 1e-6


def test_a_quiet_bucket_refills_to_the_burst_only(tmp_path):
    clock = FakeClock(1_000_020.0)
    budget = HostBudget(tmp_path / "bucket", 6000, clock)
    grants(budget, clock, 50, 10)

    clock.t += 3600  # an hour later: a full bucket, not an hour's worth of weight
    times = grants(budget, clock, 50, 40)
    assert sum(1 for t in times if t == clock.t) == 30


def test_the_gate_waits_for_its_booked_grant_and_asks_only_once(tmp_path):
    clock = FakeClock(1_000_020.0)
    budget = HostBudget(tmp_path / "bucket", 600, clock)  # burst 150, 7.5 per second
    grants(budget, clock, 150, 1)  # another process took the burst
    gate = RestGate(clock, cost=15, budget=600, shared=budget)

    assert not gate.acquire()  # booked: 2 s from now
    assert gate.waits == 1
    clock.t += 1.9
    assert not gate.acquire()
    clock.t += 0.1
    assert gate.acquire()
    assert gate.waits == 1


def _book(path: str, count: int, out: multiprocessing.Queue) -> None:
    budget = HostBudget(Path(path), 600, SystemClock())
    out.put([time.time() + budget.reserve(5) for _ in range(count)])


def test_processes_booking_at_once_lose_no_booking(tmp_path):
    out: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_book, args=(str(tmp_path / "bucket"), 50, out))
        for _ in range(4)
    ]
    for proc in procs:
        proc.start()
    times = sorted(t for _ in procs for t in out.get(timeout=30))
    for proc in procs:
        proc.join(10)

    # 1,000 weight booked at 7.5/s after a 150 burst: the last grant ~113 s out, none sooner
    # than the budget allows (a lost update under the lock would grant more at once).
    assert len(times) == 200
    assert 1000 - 150 - 5 <= (times[-1] - times[0]) * 7.5 <= 1000 - 150 + 5


def test_the_default_file_is_per_rest_host():
    a = default_budget_file("https://api.binance.com")
    b = default_budget_file("http://127.0.0.1:9100")
    assert a != b
    assert a == default_budget_file("https://api.binance.com")
