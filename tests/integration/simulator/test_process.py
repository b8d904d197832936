"""The simulator as an operator runs it: CLI, start-up faults, logs and clean shutdown."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from click.testing import CliRunner

from booksnap.cli import cli
from tests.integration.simulator.book_client import fetch_json
from tests.integration.simulator.wsutil import depth_events, open_ws, read_until_close
from tests.support.processes import REPO
from tests.support.simulator import SimulatorProcess


def test_sigterm_with_open_connections_exits_0_within_5s(tmp_path):
    sim = SimulatorProcess(tmp_path, symbols=("BTCUSDT",)).start()
    ws = open_ws(sim, "/ws/btcusdt@depth@100ms", timeout=0.5)
    depth_events(ws, 1)
    assert "WS #1 open" in sim.log()
    started = time.monotonic()
    sim.proc.signal(signal.SIGTERM)
    sim.proc.popen.wait(5)
    assert time.monotonic() - started < 5
    assert sim.proc.popen.returncode == 0
    _, code = read_until_close(ws, timeout=5)
    assert code == 1001  # clients are told the server is going away
    log = sim.log()
    assert "WS #1 closed" in log
    assert "Simulator stopped" in log


def test_fault_option_applies_at_start(tmp_path):
    extra = ("--fault", "rest_error:BTCUSDT:status=503,count=1", "--summary-interval", "1")
    with SimulatorProcess(tmp_path, symbols=("BTCUSDT",), extra_args=extra) as sim:
        assert fetch_json(f"{sim.rest_url}/api/v3/depth?symbol=BTCUSDT")[0] == 503
        assert fetch_json(f"{sim.rest_url}/api/v3/depth?symbol=BTCUSDT")[0] == 200
        sim.proc.wait_log("Summary (1 s)", timeout=10)
        assert "Injecting fault: rest_error on BTCUSDT" in sim.log()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args],
        cwd=REPO,
        capture_output=True,
        check=False,
        text=True,
        timeout=30,
    )


def test_invalid_options_exit_at_once_naming_the_option():
    for args, option in [
        (("--symbols", "BTC-USDT"), "--symbols"),
        (("--speed", "0"), "--speed"),
        (("--source", "replay", "--symbols", "DOGEUSDT"), "DOGEUSDT"),
        (("--fault", "explode"), "explode"),
        (("--ping-interval", "-1"), "--ping-interval"),
    ]:
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert option in result.stderr


def test_booksnap_simulate_help():
    result = CliRunner().invoke(cli, ["simulate", "--help"])
    assert result.exit_code == 0
    assert "--source" in result.output
    assert "--max-connection-seconds" in result.output
