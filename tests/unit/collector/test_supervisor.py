"""The supervisor with stand-in children: restart with capped backoff, and a bounded stop."""

from __future__ import annotations

import signal
import sys
import threading
import time

from collector.children import ExecLauncher, ForkLauncher
from collector.config import SupervisorConfig
from collector.supervisor import Supervisor
from shared.lifecycle import StopFlag
from tests.support.waiting import poll_for


def run_in_thread(supervisor: Supervisor) -> tuple[StopFlag, threading.Thread]:
    stop = StopFlag()
    thread = threading.Thread(target=supervisor.run, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


def test_a_child_that_keeps_dying_is_restarted_with_backoff():
    config = SupervisorConfig(symbols=("AAAUSDT",), restart_min=0.05, restart_max=0.2)
    command = [sys.executable, "-c", "import sys; sys.exit(3)", "--"]
    supervisor = Supervisor(config, ExecLauncher(command, ["--levels=5"]))

    stop, thread = run_in_thread(supervisor)
    child = supervisor.children["AAAUSDT"]
    poll_for(lambda: child.restarts >= 3, 20, what="three restarts")
    stop.request()
    thread.join(10)

    assert not thread.is_alive()
    assert set(child.history) == {3}
    assert child.failures >= 3


def test_stop_kills_a_child_that_ignores_sigterm_within_the_budget(tmp_path):
    config = SupervisorConfig(symbols=("BBBUSDT",), stop_timeout=0.5)
    ready = tmp_path / "ready"
    script = (
        "import pathlib, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"pathlib.Path({str(ready)!r}).touch(); time.sleep(60)"
    )
    supervisor = Supervisor(config, ExecLauncher([sys.executable, "-c", script, "--"], []))

    stop, thread = run_in_thread(supervisor)
    poll_for(lambda: supervisor.children["BBBUSDT"].popen is not None, 10)
    popen = supervisor.children["BBBUSDT"].popen
    assert popen is not None
    poll_for(ready.exists, 10, what="the child ignoring SIGTERM")
    stop.request()
    thread.join(10)

    assert not thread.is_alive()
    assert popen.returncode == -9


def test_forked_children_are_restarted_and_report_their_exit_code():
    config = SupervisorConfig(symbols=("CCCUSDT", "DDDUSDT"), restart_min=0.05, restart_max=0.2)
    supervisor = Supervisor(config, ForkLauncher(lambda symbol: 4 if symbol == "CCCUSDT" else 5))

    stop, thread = run_in_thread(supervisor)
    poll_for(
        lambda: all(c.restarts >= 2 for c in supervisor.children.values()), 20, what="restarts"
    )
    stop.request()
    thread.join(10)

    assert not thread.is_alive()
    assert set(supervisor.children["CCCUSDT"].history) == {4}
    assert set(supervisor.children["DDDUSDT"].history) == {5}


def test_a_forked_child_that_raises_exits_1_and_one_that_ignores_sigterm_is_killed(tmp_path):
    ready = tmp_path / "ready"

    def target(symbol: str) -> int:
        if symbol == "EEEUSDT":
            raise RuntimeError("boom")
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        ready.touch()
        time.sleep(60)
        return 0

    config = SupervisorConfig(symbols=("EEEUSDT", "FFFUSDT"), stop_timeout=0.5)
    supervisor = Supervisor(config, ForkLauncher(target))
    stop, thread = run_in_thread(supervisor)
    poll_for(lambda: supervisor.children["EEEUSDT"].history, 10, what="the failing child")
    poll_for(ready.exists, 10, what="the child ignoring SIGTERM")
    popen = supervisor.children["FFFUSDT"].popen
    assert popen is not None
    stop.request()
    thread.join(10)

    assert not thread.is_alive()
    assert supervisor.children["EEEUSDT"].history[0] == 1
    assert popen.returncode == -9
