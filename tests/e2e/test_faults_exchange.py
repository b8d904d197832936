"""Exchange-side fault drills on a running pipeline, through the simulator's admin fault API.

Each drill records a healthy second, injects one fault, waits until every symbol stores live
seconds again, and then asserts what was lost: nothing, or only the seconds in which the fault
left no valid book (one contiguous run, right after the fault, no longer than the recovery takes).
Both views must agree: the writer's ``Stored snapshot`` lines and the query process's coverage.
Every book stored meanwhile must be sorted, uncrossed, fresh and never older than the one before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.books import book_problems
from tests.support.logs import ranges
from tests.support.pipeline import Pipeline, now_second, start_pipeline
from tests.support.processes import stop_all
from tests.support.waiting import poll_for

FAULTED, OTHER = "BTCUSDT", "ETHUSDT"


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    pipe = start_pipeline(tmp_path_factory.mktemp("exchange"))
    try:
        yield pipe
    finally:
        stop_all(list(pipe.procs.values()))


@dataclass
class Drill:
    """What one fault cost: the window looked at, when the fault came, the seconds missing."""

    start: int
    fault: int
    end: int
    missing: dict[str, list[int]]
    collector_log: str  # the collector's log lines written since the fault

    def assert_lost_at_most(self, symbol: str, seconds: int) -> None:
        """At most ``seconds`` missing, all in one run that starts no earlier than the fault."""
        missing = self.missing[symbol]
        assert len(missing) <= seconds, f"{symbol} lost {ranges(missing)}, allowed {seconds} s"
        if missing:
            assert len(ranges(missing)) == 1, f"{symbol} lost several runs: {ranges(missing)}"
            # second S is captured at the end of S: a fault during S can cost S itself
            assert missing[0] >= self.fault - 1, f"{symbol} lost {missing} before the fault"


def run_drill(pipe: Pipeline, tmp_path: Path, inject: Callable[[], Any], settle: int = 3) -> Drill:
    """Healthy → fault → live again; then the seconds lost, per symbol, and the books checked."""
    start = now_second()
    pipe.wait_stored_through(start)
    log_mark = len(pipe.log("collector"))
    fault = now_second()
    inject()
    # recovered: every symbol stores seconds after the fault's worst case again
    end = now_second() + settle
    poll_for(
        lambda: all(max(s, default=0) >= now_second() - 2 >= end for s in pipe.stored().values()),
        60,
        interval=0.2,
        what="every symbol storing live seconds again",
    )
    end = min(max(s) for s in pipe.stored().values())
    missing = pipe.lost(pipe.settle_coverage(start, end))
    for symbol in pipe.symbols:
        problems = book_problems(pipe.data_dir, tmp_path / f"check-{symbol}", symbol, start, end)
        assert not problems, f"{symbol}: wrong books stored: {problems[:5]}"
    return Drill(start, fault, end, missing, pipe.log("collector")[log_mark:])


@pytest.fixture
def clear_faults(pipeline: Pipeline) -> Iterator[None]:
    yield
    pipeline.fault("clear")


def test_sequence_gap_costs_only_the_resync(
    pipeline: Pipeline, tmp_path: Path, clear_faults: None
) -> None:
    drill = run_drill(pipeline, tmp_path, lambda: pipeline.fault("gap", FAULTED, count=3))
    assert f"[{FAULTED}]" in _lines_with(drill.collector_log, "book invalid")
    assert f"synced {FAULTED} at snapshot" in drill.collector_log
    drill.assert_lost_at_most(FAULTED, 4)
    assert drill.missing[OTHER] == [], f"{OTHER} lost {ranges(drill.missing[OTHER])}"


def test_disconnect_costs_only_the_reconnect(
    pipeline: Pipeline, tmp_path: Path, clear_faults: None
) -> None:
    drill = run_drill(pipeline, tmp_path, lambda: pipeline.fault("disconnect"))
    for symbol in pipeline.symbols:
        assert f"synced {symbol} at snapshot" in drill.collector_log, drill.collector_log[-2000:]
        drill.assert_lost_at_most(symbol, 6)


def test_silent_stall_stores_no_stale_book(
    pipeline: Pipeline, tmp_path: Path, clear_faults: None
) -> None:
    drill = run_drill(pipeline, tmp_path, lambda: pipeline.fault("stall", FAULTED, seconds=5))
    # the stream said nothing for 5 s: the seconds with a book nobody vouches for are not stored
    assert "stream silent" in _lines_with(drill.collector_log, f"[{FAULTED}]")
    assert "stream speaks again" in drill.collector_log
    assert drill.missing[FAULTED], "a 5 s stall must leave the seconds it made unknowable"
    drill.assert_lost_at_most(FAULTED, 5)
    assert drill.missing[OTHER] == [], f"{OTHER} lost {ranges(drill.missing[OTHER])}"


def test_malformed_frames_are_dropped_and_cost_nothing(
    pipeline: Pipeline, tmp_path: Path, clear_faults: None
) -> None:
    drill = run_drill(pipeline, tmp_path, lambda: pipeline.fault("malformed", FAULTED, count=5))
    assert "dropped a malformed frame" in _lines_with(drill.collector_log, f"[{FAULTED}]")
    for symbol in pipeline.symbols:
        assert drill.missing[symbol] == [], f"{symbol} lost {ranges(drill.missing[symbol])}"


@pytest.mark.parametrize(("status", "said"), [(429, "REST 429"), (418, "REST 418"), (503, "503")])
def test_rest_errors_during_a_resync_cost_only_the_wait(
    pipeline: Pipeline, tmp_path: Path, clear_faults: None, status: int, said: str
) -> None:
    def inject() -> None:
        pipeline.fault("rest_error", FAULTED, status=status, count=2, retry_after=1)
        pipeline.fault("gap", FAULTED, count=2)  # the resync must go through the failing REST

    drill = run_drill(pipeline, tmp_path, inject)
    said_lines = _lines_with(drill.collector_log, said)
    assert f"[{FAULTED}]" in said_lines, drill.collector_log[-2000:]
    assert f"synced {FAULTED} at snapshot" in drill.collector_log
    # two refused snapshots, each followed by a ~1 s wait, then the resync itself
    drill.assert_lost_at_most(FAULTED, 8)
    assert drill.missing[OTHER] == [], f"{OTHER} lost {ranges(drill.missing[OTHER])}"


def test_server_shutdown_is_handed_over_without_a_lost_second(
    pipeline: Pipeline, tmp_path: Path, clear_faults: None
) -> None:
    drill = run_drill(pipeline, tmp_path, lambda: pipeline.fault("server_shutdown", grace=2))
    for symbol in pipeline.symbols:
        lines = _lines_with(drill.collector_log, f"[{symbol}]")
        assert "serverShutdown" in lines, drill.collector_log[-2000:]
        assert "switched from connection" in lines
        assert drill.missing[symbol] == [], f"{symbol} lost {ranges(drill.missing[symbol])}"


def _lines_with(log: str, text: str) -> str:
    return "\n".join(line for line in log.splitlines() if text in line)
