"""Supervisor: one child process per symbol, restarted with capped backoff when it dies.

honcho stops every process as soon as one exits, so nothing a child does may end the
supervisor: a child that dies (crash, SIGKILL, unknown symbol) is logged and restarted later,
and the other symbols' children are never touched. On SIGTERM/SIGINT the supervisor sends
SIGTERM to every child, waits up to ``stop_timeout`` s, SIGKILLs the rest and exits 0.
"""

from __future__ import annotations

import logging
import random
import subprocess
from dataclasses import dataclass, field

from collector.children import ChildProcess, Launcher
from collector.config import SupervisorConfig
from shared.clock import Clock, SystemClock
from shared.lifecycle import StopFlag

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.2  # s between looks at the children


@dataclass
class Child:
    """One symbol's process and its restart bookkeeping."""

    symbol: str
    popen: ChildProcess | None = None
    started: float = 0.0  # monotonic
    failures: int = 0  # consecutive short-lived runs
    next_start: float = 0.0  # monotonic
    restarts: int = 0
    history: list[int] = field(default_factory=list)  # exit codes, newest last


class Supervisor:
    """Starts each symbol's collector with ``launch`` (collector/children.py) and keeps them
    running."""

    def __init__(
        self, config: SupervisorConfig, launch: Launcher, clock: Clock | None = None
    ) -> None:
        self.config = config
        self._launch = launch
        self._clock = clock or SystemClock()
        self.children = {symbol: Child(symbol) for symbol in config.symbols}

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
        try:
            child.popen = self._launch(child.symbol)
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
