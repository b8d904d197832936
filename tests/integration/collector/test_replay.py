"""Real recordings → real simulator process → real collector processes → a real SUB socket."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.integration.collector.harness import (
    Sink,
    check_against_truth,
    check_consecutive,
    check_fresh,
    check_trades,
    collector,
)
from tests.support.simulator import simulator_fixture
from tests.support.waiting import poll_for

simulator = simulator_fixture(symbols=("BTCUSDT", "ETHUSDT"), source="replay", speed=10)


@pytest.fixture
def sink(zmq_context):
    sink = Sink(zmq_context)
    yield sink
    sink.close()


def test_supervised_collectors_publish_every_second_the_true_book(tmp_path, simulator, sink):
    # Arrange: the supervisor runs one collector process per symbol.
    proc = collector(
        tmp_path, simulator, sink, None, "--symbols", "BTCUSDT,ETHUSDT", "--summary-interval", "3"
    )
    try:
        # Act
        sink.wait_records("BTCUSDT", 8)
        sink.wait_records("ETHUSDT", 8)
        proc.wait_log("summary 3s", count=2)
        sink.drain()
    finally:
        started = time.monotonic()
        code = proc.stop(timeout=10)
        stop_seconds = time.monotonic() - started

    # Assert: exit 0 within 5 s of SIGTERM; every second present; every book equals the truth.
    assert code == 0, proc.log()[-3000:]
    assert stop_seconds < 5
    for symbol in ("BTCUSDT", "ETHUSDT"):
        records = sink.of(symbol)
        check_consecutive(records)
        check_fresh(records)
        check_trades(records)
        assert check_against_truth(simulator, records, 20) == len(records)
        assert all(len(r.bids) == len(r.asks) == 20 for r in records)
        live = [b for b in sink.books if b.symbol == symbol]
        # A live book after each change, at most once a second (live_interval's default).
        assert len(live) >= len(records) - 1
        assert check_against_truth(simulator, live[::7], 100) >= len(live[::7]) - 1
        # Snapshots start at 100 levels: the live book shows the part they vouch for.
        assert sum(len(b.bids) + len(b.asks) for b in live) / len(live) >= 100
    assert sum(len(r.trades) for r in sink.of("BTCUSDT")) > 0
    log = proc.log()
    assert "synced BTCUSDT at snapshot lastUpdateId=" in log
    assert "synced ETHUSDT at snapshot lastUpdateId=" in log
    assert "book invalid" not in log
    assert "stopped 2 collector processes" in log


def test_sigkilled_child_is_restarted_and_the_other_symbol_misses_nothing(
    tmp_path, simulator, sink
):
    proc = collector(tmp_path, simulator, sink, None, "--symbols", "BTCUSDT,ETHUSDT")
    try:
        sink.wait_records("BTCUSDT", 2)
        sink.wait_records("ETHUSDT", 2)
        pid = int(poll_for(lambda: _child_pid(proc.log(), "ETHUSDT"), 10))

        # Act: kill the ETHUSDT collector the hard way.
        os.kill(pid, signal.SIGKILL)
        proc.wait_log("collector ETHUSDT exited with code -9")
        proc.wait_log("started collector ETHUSDT", count=2)
        poll_for(
            lambda: len({r.session for r in sink.of("ETHUSDT")}) == 2,
            30,
            what="records from the restarted ETHUSDT collector",
        )
        sink.wait_records("BTCUSDT", len(sink.of("BTCUSDT")) + 2)
    finally:
        code = proc.stop(timeout=10)

    assert code == 0
    check_consecutive(sink.of("BTCUSDT"))  # one session, not one second missed
    sessions = sorted({r.session for r in sink.of("ETHUSDT")})
    for session in sessions:
        check_consecutive([r for r in sink.of("ETHUSDT") if r.session == session])
    assert check_against_truth(simulator, sink.of("ETHUSDT"), 20) == len(sink.of("ETHUSDT"))


def test_unknown_symbol_is_retried_without_touching_the_others(tmp_path, simulator, sink):
    proc = collector(
        tmp_path,
        simulator,
        sink,
        None,
        "--symbols",
        "BTCUSDT,NOSUCHUSDT",
        "--watchdog-seconds",
        "2",
    )
    try:
        proc.wait_log("REST snapshot failed: HTTP 400", timeout=30)
        before = len(sink.wait_records("BTCUSDT", 3))
        proc.wait_log("REST snapshot failed: HTTP 400", timeout=30, count=2)
        sink.wait_records("BTCUSDT", before + 2)
    finally:
        code = proc.stop(timeout=10)

    assert code == 0
    assert "-1121" in proc.log()
    check_consecutive(sink.of("BTCUSDT"))
    assert not sink.of("NOSUCHUSDT")


def _child_pid(log: str, symbol: str) -> str | None:
    for line in log.splitlines():
        if f"started collector {symbol} (pid " in line:
            return line.rsplit("(pid ", 1)[1].rstrip(")")
    return None
