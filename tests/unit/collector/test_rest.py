"""REST pacing: Retry-After on 429/418, the weight budget, failure backoff; the fetch thread."""

from __future__ import annotations

from collector.rest import HttpReply, RestGate, SnapshotFetcher
from tests.support.clock import FakeClock
from tests.support.waiting import poll_for
from tests.unit.collector.fixtures import fixture_text


def test_429_and_418_hold_requests_for_retry_after():
    clock = FakeClock(1_000_020.0)
    gate = RestGate(clock, cost=50, budget=3000)

    gate.record(HttpReply(429, {"Retry-After": "7"}, b""))
    assert gate.delay() == 7.0
    clock.t += 7
    assert gate.delay() == 0.0
    gate.record(HttpReply(418, {}, b""))
    assert gate.delay() == 120.0


def test_weight_budget_waits_for_the_next_minute():
    clock = FakeClock(1_000_040.0)  # 20 s into a minute
    gate = RestGate(clock, cost=50, budget=3000)

    gate.record(HttpReply(200, {"X-MBX-USED-WEIGHT-1M": "2960"}, b"{}"))

    assert gate.delay() == 40.0
    clock.t += 40
    assert gate.delay() == 0.0


def test_failures_back_off_exponentially_up_to_a_cap():
    clock = FakeClock(1_000_020.0)
    gate = RestGate(clock, cost=50, budget=3000, backoff_max=4.0)
    delays = []
    for _ in range(5):
        gate.record(HttpReply(500, {}, b""))
        delays.append(gate.delay())
        clock.t += delays[-1]

    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0]
    gate.record(HttpReply(200, {}, b"{}"))
    assert gate.failures == 0


def test_fetcher_runs_on_a_thread_and_reports_errors():
    clock = FakeClock(1_000_020.0)
    replies = iter(
        [
            HttpReply(400, {}, fixture_text("rest_error_invalid_symbol.json").encode()),
            HttpReply(200, {}, fixture_text("rest_depth.json").encode()),
        ]
    )
    fetcher = SnapshotFetcher(
        "http://x/api/v3/depth",
        RestGate(clock, 50, 3000),
        1.0,
        get=lambda url, timeout: next(replies),
    )

    fetcher.start()
    first = poll_for(fetcher.take, 5)
    clock.t += 1
    assert fetcher.ready()
    fetcher.start()
    second = poll_for(fetcher.take, 5)

    assert first.snapshot is None
    assert "-1121" in first.error
    assert first.status == 400
    assert second.snapshot is not None
    assert second.snapshot.lastUpdateId == 50093239218
