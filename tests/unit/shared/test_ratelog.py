"""RateLimitedLog: one line per cause per interval with a count, whatever the reject rate."""

from __future__ import annotations

import logging

import pytest

from shared.ratelog import MAX_DETAIL, RateLimitedLog
from tests.support.clock import FakeClock

LOGGER = "tests.ratelog"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture
def lines(caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)

    def messages() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == LOGGER]

    return messages


def make(clock: FakeClock, **kwargs) -> RateLimitedLog:
    return RateLimitedLog(logging.getLogger(LOGGER), 60.0, clock=clock.monotonic, **kwargs)


def test_first_reject_is_logged_then_counted(clock, lines):
    rejects = make(clock)
    for i in range(10_000):
        rejects.reject("unknown symbol", f"FOO{i}")
    assert len(lines()) == 1
    assert lines()[0].startswith("Rejected (unknown symbol): FOO0;")
    clock.advance(30)
    rejects.flush()
    assert len(lines()) == 1  # not due yet
    clock.advance(30)
    rejects.flush()
    assert lines()[1] == "Rejected (unknown symbol) 9999 times in 60 s: FOO9999"
    assert rejects.totals == {"unknown symbol": 10_000}
    rejects.flush()
    assert len(lines()) == 2  # nothing pending, nothing written


def test_a_reject_after_the_interval_writes_the_count_itself(clock, lines):
    rejects = make(clock)
    rejects.reject("bad frame count", "4")
    clock.advance(10)
    rejects.reject("bad frame count", "5")
    clock.advance(55)
    rejects.reject("bad frame count", "6")
    assert lines()[1:] == ["Rejected (bad frame count) 2 times in 65 s: 6"]


def test_lines_per_interval_are_bounded_by_the_causes_at_any_rate(clock, lines):
    rejects = make(clock)
    causes = [f"cause {i}" for i in range(5)]
    for _ in range(600):  # ten minutes, 1000 rejects per cause per second
        for cause in causes:
            for _ in range(1000):
                rejects.reject(cause)
        clock.advance(1)
        rejects.flush()
    # 5 first lines, then one per cause per 60 s.
    assert len(lines()) <= 5 + 5 * (600 // 60)
    assert sum(rejects.totals.values()) == 5 * 600 * 1000


def test_causes_beyond_the_limit_share_one_line(clock, lines):
    rejects = make(clock, max_causes=3)
    for i in range(100):
        rejects.reject(f"cause {i}")
    assert len(lines()) == 4
    assert rejects.totals["other"] == 97


def test_details_from_input_cannot_split_a_line(clock, lines):
    rejects = make(clock)
    rejects.reject("bad symbol", "BTC\nINFO forged line")
    rejects.reject("long", "x" * 100_000)
    first, second = lines()
    assert "\n" not in first
    assert "BTC\\nINFO forged line" in first
    assert len(second) < MAX_DETAIL + 120


def test_flush_force_writes_pending_counts_at_shutdown(clock, lines):
    rejects = make(clock)
    rejects.reject("x")
    rejects.reject("x")
    rejects.flush(force=True)
    assert lines()[1] == "Rejected (x) 1 times in 0 s"


def test_disabled_level_writes_nothing_but_still_counts(clock, caplog):
    caplog.set_level(logging.ERROR, logger=LOGGER)
    rejects = make(clock)
    rejects.reject("x")
    assert not caplog.records
    assert rejects.totals == {"x": 1}
