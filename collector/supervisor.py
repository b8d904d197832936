"""Supervisor: one child process per symbol, restarted with capped backoff when it dies.

honcho stops every process as soon as one exits, so nothing a child does may end the
supervisor: a child that dies (crash, SIGKILL, unknown symbol) is logged and restarted later,
and the other symbols' children are never touched. On SIGTERM/SIGINT the supervisor sends
SIGTERM to every child, waits up to ``stop_timeout`` s, SIGKILLs the rest and exits 0.
"""

from __future__ import annotations

import ctypes
import logging
import random
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from collector.config import SupervisorConfig
from shared.clock import Clock, SystemClock
from shared.lifecycle import StopFlag

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.2  # s between looks at the children
PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass
class Child:
    """One symbol's process and its restart bookkeeping."""

    symbol: str
    popen: subprocess.Popen[bytes] | None = None
    started: float = 0.0  # monotonic
    failures: int = 0  # consecutive short-lived runs
    next_start: float = 0.0  # monotonic
    restarts: int = 0
    history: list[int] = field(default_factory=list)  # exit codes, newest last


class Supervisor:
    """Runs ``python -m collector --symbol X <args>`` for each symbol and keeps them running."""

    def __init__(
        self,
        config: SupervisorConfig,
        child_args: Sequence[str],
        clock: Clock | None = None,
        command: Sequence[str] = (sys.executable, "-m", "collector"),
    ) -> None:
        self.config = config
        self._args = list(child_args)
        self._clock = clock or SystemClock()
        self._command = list(command)
        self.children = {symbol: Child(symbol) for symbol in config.symbols}
        self.child_env: dict[str, str] | None = None  # set by collector/metrics.py

    def run(self, stop: StopFlag) -> None:
        log.info("supervising collectors for %s", ", ".join(self.config.symbols))
        try:
            while not stop:
                for child in self.children.values():
                    self._tend(child)
                self._clock.sleep(POLL_INTERVAL)
        finally:
            self.stop_children()

    def _tend(self, child: Child) -> None:
        now = self._clock.monotonic()
        if child.popen is None:
            if now >= child.next_start:
                self._start(child)
            return
        code = child.popen.poll()
        if code is None:
            return
        lived = now - child.started
        child.popen = None
        child.history.append(code)
        if lived >= self.config.stable_after:
            child.failures = 0
        base = min(self.config.restart_max, self.config.restart_min * 2 ** min(child.failures, 20))
        delay = random.uniform(base / 2, base)
        child.failures += 1
        child.next_start = now + delay
        log.error(
            "collector %s exited with code %d after %.1f s; restarting in %.2f s (failure %d)",
            child.symbol,
            code,
            lived,
            delay,
            child.failures,
        )

    def _start(self, child: Child) -> None:
        argv = [*self._command, "--symbol", child.symbol, *self._args]
        try:
            child.popen = subprocess.Popen(argv, env=self.child_env, preexec_fn=_die_with_parent)  # noqa: PLW1509
        except OSError as exc:
            child.failures += 1
            child.next_start = self._clock.monotonic() + self.config.restart_max
            log.error("could not start the %s collector: %s", child.symbol, exc)
            return
        if child.history:
            child.restarts += 1
        child.started = self._clock.monotonic()
        log.info("started collector %s (pid %d)", child.symbol, child.popen.pid)

    def stop_children(self) -> None:
        """SIGTERM every child, wait up to stop_timeout, SIGKILL the ones still running."""
        running = [c.popen for c in self.children.values() if c.popen is not None]
        for popen in running:
            if popen.poll() is None:
                popen.terminate()
        deadline = self._clock.monotonic() + self.config.stop_timeout
        for popen in running:
            try:
                popen.wait(max(0.0, deadline - self._clock.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("collector pid %d ignored SIGTERM; killing it", popen.pid)
                popen.kill()
                popen.wait()
        for child in self.children.values():
            child.popen = None
        log.info("stopped %d collector processes", len(running))


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGTERM when the supervisor dies (even by
    SIGKILL), so no orphaned collector keeps publishing beside a new supervisor's children."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: orphans are possible, nothing else changes
