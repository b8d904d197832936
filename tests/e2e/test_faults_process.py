"""Process-side drills: SIGKILL one collector child, the writer, the query process.

The supervisor restarts a killed collector (its symbol loses only the restart, the other symbol
nothing); a restarted writer backfills the outage from the collectors' buffers (nothing lost); a
restarted query process answers again while the writer and the collectors never noticed.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from booksnap.client import QueryClient
from tests.support.books import book_problems
from tests.support.logs import ranges
from tests.support.pipeline import Pipeline, now_second, start_pipeline
from tests.support.processes import stop_all
from tests.support.waiting import poll_for

KILLED, OTHER = "ETHUSDT", "BTCUSDT"
OUTAGE = 3.0  # seconds a killed process stays down: the outage itself, not a synchronisation


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    pipe = start_pipeline(tmp_path_factory.mktemp("process"))
    try:
        yield pipe
    finally:
        stop_all(list(pipe.procs.values()))


def child_pid(pipe: Pipeline, symbol: str) -> int:
    started = re.findall(rf"started collector {symbol} \(pid (\d+)\)", pipe.log("collector"))
    assert started, pipe.log("collector")[-2000:]
    return int(started[-1])


def test_collector_child_sigkill_is_restarted_and_the_other_symbol_loses_nothing(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    start = now_second()
    pipeline.wait_stored_through(start)
    pid = child_pid(pipeline, KILLED)
    killed_at = now_second()
    os.kill(pid, signal.SIGKILL)
    poll_for(lambda: child_pid(pipeline, KILLED) != pid, 30, what=f"a new {KILLED} collector")
    end = now_second() + 3
    pipeline.wait_stored_through(end)
    missing = pipeline.lost(pipeline.settle_coverage(start, end))
    assert f"collector {KILLED} exited with code -9" in pipeline.log("collector")
    assert missing[OTHER] == [], f"{OTHER} lost {ranges(missing[OTHER])}"
    # the killed child's unsent seconds die with it; the rest is the restart and a fresh sync
    lost = missing[KILLED]
    assert len(lost) <= 8, f"{KILLED} lost {ranges(lost)}"
    assert len(ranges(lost)) <= 1, ranges(lost)
    assert all(s >= killed_at - 1 for s in lost), ranges(lost)
    for symbol in pipeline.symbols:
        assert not book_problems(pipeline.data_dir, tmp_path / symbol, symbol, start, end)


def test_writer_sigkill_and_restart_loses_no_second(pipeline: Pipeline) -> None:
    start = now_second()
    pipeline.wait_stored_through(start)
    pipeline.procs["writer"].kill()
    time.sleep(OUTAGE)  # the collectors keep publishing into the void, and buffering
    log_mark = len(pipeline.log("writer"))
    pipeline.restart("writer")
    end = now_second() + 3
    pipeline.wait_stored_through(end)
    missing = pipeline.lost(pipeline.settle_coverage(start, end))
    for symbol in pipeline.symbols:
        assert missing[symbol] == [], f"{symbol} lost {ranges(missing[symbol])}"
    # The outage is filled either by the collectors' PUB queues (delivered when the writer's
    # SUB is back) or by backfill from their buffers; both are fine, losing a second is not.
    assert "Writer ready" in pipeline.log("writer")[log_mark:]


def test_query_sigkill_and_restart_answers_again_and_disturbs_nobody(
    pipeline: Pipeline,
) -> None:
    start = now_second()
    pipeline.wait_stored_through(start)
    writer_pid = pipeline.procs["writer"].pid
    exits = pipeline.log("collector").count("exited with code")
    pipeline.procs["query"].kill()
    pipeline.wait_stored_through(now_second() + 2)  # storage goes on without the query process
    pipeline.restart("query")
    with QueryClient(pipeline.env["BOOKSNAP_QUERY_ENDPOINT"], timeout=5) as client:
        for symbol in pipeline.symbols:

            def answered(symbol: str = symbol) -> Any:
                return client.request("orderbook_l1", {"symbol": symbol})

            l1 = poll_for(
                answered,
                30,
                interval=0.5,
                what=f"the restarted query process answering l1 for {symbol}",
            )
            assert float(l1["best_bid"]) < float(l1["best_ask"])
    end = now_second() + 1
    pipeline.wait_stored_through(end)
    missing = pipeline.lost(pipeline.settle_coverage(start, end))
    for symbol in pipeline.symbols:
        assert missing[symbol] == [], f"{symbol} lost {ranges(missing[symbol])}"
    assert pipeline.procs["writer"].pid == writer_pid
    assert pipeline.procs["writer"].alive()
    assert pipeline.procs["collector"].alive()
    assert pipeline.log("collector").count("exited with code") == exits
