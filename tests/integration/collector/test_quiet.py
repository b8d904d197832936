"""Quiet symbols: one exact record per second through real collector processes, including the
seconds in which the market said nothing (the pong to a ping vouches for them)."""

from __future__ import annotations

import itertools
import time

import pytest

from tests.integration.collector.harness import (
    Sink,
    check_against_truth,
    check_consecutive,
    check_trades,
    collector,
)
from tests.support.simulator import simulator_fixture

GOAL = 0.999

# The real ETHUSDT recording replayed 50x slower than it happened: its 100 ms depth batches come
# 5 s apart and its trades ~3 s apart on average, so most seconds carry no frame at all. This is
# real data stretched in time, not a recording of a quiet pair.
slowed = simulator_fixture(symbols=("ETHUSDT",), source="replay", speed=0.02)


@pytest.fixture
def sink(zmq_context):
    sink = Sink(zmq_context)
    yield sink
    sink.close()


def test_slowed_real_replay_stores_every_second_with_the_true_book(tmp_path, slowed, sink):
    proc = collector(tmp_path, slowed, sink, "ETHUSDT", "--summary-interval", "5")
    try:
        first = sink.wait_records("ETHUSDT", 1, timeout=60)[0].second
        time.sleep(25)
        proc.wait_log("summary 5s", count=2)
        sink.drain()
    finally:
        code = proc.stop(timeout=10)

    assert code == 0, proc.log()[-3000:]
    records = sink.of("ETHUSDT")
    last = records[-1].second
    stored = {r.second for r in records}
    assert len(stored) / (last - first + 1) >= GOAL, sorted(set(range(first, last)) - stored)
    check_consecutive(records)
    check_trades(records)
    assert check_against_truth(slowed, records, 20) == len(records)
    # Most seconds had no data frame after their end: pings vouched for them.
    ids = [r.update_id for r in records]
    assert sum(1 for a, b in itertools.pairwise(ids) if a == b) >= len(ids) // 2
    log = proc.log()
    assert "stream silent" not in log
    assert " pongs=" in log
