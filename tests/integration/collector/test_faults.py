"""Every fault the simulator injects: the collector recovers without a restart, publishes nothing
that differs from the true book, and its log says what happened."""

from __future__ import annotations

import pytest

from tests.integration.collector.harness import (
    Sink,
    check_against_truth,
    check_consecutive,
    check_fresh,
    collector,
    log_times,
)
from tests.support.simulator import SimulatorProcess, simulator_fixture

simulator = simulator_fixture(symbols=("BTCUSDT",), source="replay", speed=10, scope="module")

SYMBOL = "BTCUSDT"


@pytest.fixture
def sink(zmq_context):
    sink = Sink(zmq_context)
    yield sink
    sink.close()


@pytest.fixture
def running(tmp_path, simulator, sink):
    """One BTCUSDT collector, synced and publishing; stopped (exit 0 asserted) afterwards."""
    simulator.fault("clear")
    proc = collector(
        tmp_path,
        simulator,
        sink,
        SYMBOL,
        "--watchdog-seconds",
        "2",
        "--reconnect-max",
        "2",
    )
    sink.wait_records(SYMBOL, 2)
    yield proc
    code = proc.stop(timeout=10)
    simulator.fault("clear")
    assert code == 0, proc.log()[-3000:]
    assert proc.log().count("collecting BTCUSDT") == 1  # recovered without a restart
    assert check_against_truth(simulator, sink.of(SYMBOL), 20) == len(sink.of(SYMBOL))
    check_fresh(sink.of(SYMBOL))


def resumed(sink: Sink, after: int = 3) -> None:
    """Wait until the collector publishes ``after`` more records."""
    sink.wait_records(SYMBOL, len(sink.of(SYMBOL)) + after)


def test_gap_resyncs(simulator: SimulatorProcess, sink, running):
    simulator.fault("gap", symbol=SYMBOL, count=2)

    running.wait_log("book invalid: sequence gap: expected U=")
    running.wait_log("synced BTCUSDT at snapshot", count=2)
    resumed(sink)


def test_disconnect_reconnects_with_backoff_and_resyncs(simulator, sink, running):
    simulator.fault("disconnect", symbol=SYMBOL)

    running.wait_log("connection #1 lost")
    running.wait_log("connected #2")
    running.wait_log("synced BTCUSDT at snapshot", count=2)
    resumed(sink)
    assert "reconnecting in" in running.log()
    assert "book invalid: connection lost" in running.log()


def test_stall_trips_the_watchdog(simulator, sink, running):
    simulator.fault("stall", symbol=SYMBOL, seconds=4)

    running.wait_log("stream silent")
    running.wait_log("(watchdog)")
    running.wait_log("connected #2")
    running.wait_log("synced BTCUSDT at snapshot", count=2, timeout=30)
    resumed(sink)


def test_malformed_frames_are_counted_and_dropped(simulator, sink, running):
    simulator.fault("malformed", symbol=SYMBOL, count=3)

    running.wait_log("dropped a malformed frame", count=3)
    resumed(sink)
    check_consecutive(sink.of(SYMBOL))  # a malformed frame alone costs no second


def test_rest_429_retry_after_is_honoured(simulator, sink, running):
    simulator.fault("rest_error", symbol=SYMBOL, count=1, status=429, retry_after=2)
    simulator.fault("gap", symbol=SYMBOL, count=1)  # forces a new snapshot

    running.wait_log("REST 429: backing off 2.0 s")
    running.wait_log("synced BTCUSDT at snapshot", count=2, timeout=30)
    resumed(sink)
    log = running.log()
    (backoff,) = log_times(log, "REST 429: backing off")
    assert log_times(log, "synced BTCUSDT at snapshot")[-1] - backoff >= 1.9


def test_server_shutdown_switches_connections_without_losing_sync(simulator, sink, running):
    simulator.fault("server_shutdown", symbol=SYMBOL, grace=2)

    running.wait_log("serverShutdown")
    running.wait_log("switched from connection #1 to #2")
    resumed(sink, 3)
    assert "book invalid" not in running.log()
    check_consecutive(sink.of(SYMBOL))


def test_connection_lifetime_handover_keeps_the_book(tmp_path, sink):
    # A simulator that cuts connections after 6 s; the collector replaces them after 3 s.
    with SimulatorProcess(
        tmp_path,
        symbols=(SYMBOL,),
        source="replay",
        speed=10,
        extra_args=["--max-connection-seconds", "6"],
    ) as sim:
        proc = collector(tmp_path, sim, sink, SYMBOL, "--max-connection-age", "3")
        try:
            proc.wait_log("switched from connection #3 to #4", timeout=30)
            resumed(sink, 2)
        finally:
            code = proc.stop(timeout=10)
        assert check_against_truth(sim, sink.of(SYMBOL), 20) == len(sink.of(SYMBOL))
    assert code == 0
    check_fresh(sink.of(SYMBOL))
    assert "reached its maximum age" in proc.log()
    assert "book invalid" not in proc.log()
    check_consecutive(sink.of(SYMBOL))


def test_pings_are_answered_so_the_server_keeps_the_connection(tmp_path, sink):
    # The simulator pings every 0.5 s and drops a client that has not answered within 2 s.
    extra = ["--ping-interval", "0.5", "--pong-timeout", "2"]
    with SimulatorProcess(
        tmp_path, symbols=(SYMBOL,), source="replay", speed=10, extra_args=extra
    ) as sim:
        proc = collector(tmp_path, sim, sink, SYMBOL)
        try:
            sink.wait_records(SYMBOL, 6)
        finally:
            code = proc.stop(timeout=10)
        sim_log = sim.log()
    assert code == 0
    assert "connected #2" not in proc.log()  # never dropped
    assert "Traceback" not in sim_log
    check_consecutive(sink.of(SYMBOL))


def test_slow_and_failing_rest_never_holds_up_the_loop(simulator, sink, running):
    # The snapshot request runs on a thread: a slow or failing REST only delays the resync.
    simulator.fault("slow_rest", symbol=SYMBOL, seconds=3, count=1)
    simulator.fault("rest_error", symbol=SYMBOL, count=1, status=500)
    simulator.fault("gap", symbol=SYMBOL, count=1)

    running.wait_log("REST snapshot failed: HTTP 500")
    running.wait_log("synced BTCUSDT at snapshot", count=2, timeout=30)
    resumed(sink)
    assert "seconds were not observed" not in running.log()
