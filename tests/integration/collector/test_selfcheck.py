"""The live self-check against the real recordings: the book agrees with every bookTicker it
meets, and a corrupted ticker (a simulator fault) is caught and answered with a resync."""

from __future__ import annotations

import re

import pytest

from tests.integration.collector.harness import (
    Sink,
    check_against_truth,
    check_consecutive,
    collector,
)
from tests.support.simulator import simulator_fixture

simulator = simulator_fixture(symbols=("BTCUSDT", "ETHUSDT"), source="replay", speed=10)
CHECKS = re.compile(r"\[(\w+)\] collector\.service: summary .* checks=(\d+) mismatches=(\d+)")


@pytest.fixture
def sink(zmq_context):
    sink = Sink(zmq_context)
    yield sink
    sink.close()


def counts(log: str) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    for symbol, checks, mismatches in CHECKS.findall(log):
        old = found.get(symbol, (0, 0))
        found[symbol] = (old[0] + int(checks), old[1] + int(mismatches))
    return found


def test_the_self_check_finds_no_mismatch_on_the_real_recordings(tmp_path, simulator, sink):
    proc = collector(
        tmp_path,
        simulator,
        sink,
        None,
        "--symbols",
        "BTCUSDT,ETHUSDT",
        "--selfcheck-every",
        "8",
        "--selfcheck-window",
        "6",
        "--summary-interval",
        "4",
    )
    try:
        sink.wait_records("BTCUSDT", 20)
        proc.wait_log("summary 4s", count=10)
    finally:
        code = proc.stop(timeout=10)

    assert code == 0, proc.log()[-3000:]
    found = counts(proc.log())
    assert found["BTCUSDT"][0] >= 50, found  # ~16 checkpoints a second at 10x
    assert found["ETHUSDT"][0] >= 20, found
    assert found["BTCUSDT"][1] == found["ETHUSDT"][1] == 0
    assert "self-check mismatch" not in proc.log()
    for symbol in ("BTCUSDT", "ETHUSDT"):
        check_consecutive(sink.of(symbol))  # sampling costs no second


def test_a_corrupted_bookticker_is_a_mismatch_that_forces_a_resync(tmp_path, simulator, sink):
    proc = collector(
        tmp_path,
        simulator,
        sink,
        "BTCUSDT",
        "--selfcheck-every",
        "4",
        "--selfcheck-window",
        "3",
    )
    try:
        sink.wait_records("BTCUSDT", 3)
        simulator.fault("corrupt_ticker", symbol="BTCUSDT", count=3000)
        proc.wait_log("self-check mismatch", timeout=30)
        proc.wait_log("synced BTCUSDT at snapshot", count=2, timeout=30)
        simulator.fault("clear")
        sink.wait_records("BTCUSDT", len(sink.of("BTCUSDT")) + 3)
    finally:
        code = proc.stop(timeout=10)

    assert code == 0, proc.log()[-3000:]
    log = proc.log()
    assert "ERROR" in next(line for line in log.splitlines() if "self-check mismatch" in line)
    assert "book invalid: self-check mismatch" in log
    # The ticker was wrong, not the book: every record stored is still the true book.
    assert check_against_truth(simulator, sink.of("BTCUSDT"), 20) == len(sink.of("BTCUSDT"))
