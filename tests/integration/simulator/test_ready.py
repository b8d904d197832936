"""``python -m simulator.ready`` (the demo's collectors start after it) against real processes."""

from __future__ import annotations

import subprocess
import sys
import time

from tests.support.processes import REPO
from tests.support.simulator import SimulatorProcess
from tests.support.waiting import free_port


def _ready(*args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator.ready", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_exits_0_once_a_simulator_answers(tmp_path):
    sim = SimulatorProcess(tmp_path, symbols=("BTCUSDT",)).start()
    try:
        done = _ready("--rest-url", sim.rest_url, "--timeout", "10")
    finally:
        sim.stop()
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_exits_1_with_one_line_when_nothing_answers():
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    done = _ready("--rest-url", url, "--timeout", "0.6")
    assert done.returncode == 1
    assert time.monotonic() - started < 10
    assert done.stderr == f"simulator.ready: no answer from {url} within 0.6 s\n"


def test_a_bad_url_is_no_answer_not_a_traceback():
    done = _ready("--rest-url", "not a url", "--timeout", "0")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
