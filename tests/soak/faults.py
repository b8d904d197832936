"""The faults a soak run injects at random, and the log of when each one happened."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import re
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from tests.support.pipeline import Pipeline

log = logging.getLogger("soak")

PROCESS_OUTAGE = 3.0  # seconds a killed writer or query process stays down


@dataclass(frozen=True)
class Injected:
    """One fault: when it started and ended (unix seconds), what, and on which symbol."""

    started: float
    ended: float
    name: str
    symbol: str | None  # None: every symbol

    def describe(self) -> str:
        return f"{self.name}" + (f" on {self.symbol}" if self.symbol else "")


class FaultInjector:
    """Chooses and injects faults; exchange faults through the admin API, process faults by
    SIGKILL (the writer and the query process are restarted here, a collector child by its
    supervisor)."""

    def __init__(self, pipe: Pipeline, rng: random.Random) -> None:
        self.pipe = pipe
        self.rng = rng
        self.injected: list[Injected] = []
        self._faults: dict[str, Callable[[str], None]] = {
            "gap": lambda s: self._admin("gap", s, count=self.rng.randint(1, 5)),
            "disconnect": lambda s: self._admin("disconnect"),
            "stall": lambda s: self._admin("stall", s, seconds=self.rng.choice([3, 5, 8])),
            "malformed": lambda s: self._admin("malformed", s, count=self.rng.randint(1, 10)),
            "rest_error+gap": self._rest_error_then_gap,
            "slow_rest+gap": self._slow_rest_then_gap,
            "server_shutdown": lambda s: self._admin("server_shutdown", grace=1),
            "kill collector child": self._kill_child,
            "kill writer": lambda s: self._kill_and_restart("writer"),
            "kill query": lambda s: self._kill_and_restart("query"),
        }

    @property
    def names(self) -> list[str]:
        return list(self._faults)

    def inject_random(self) -> Injected:
        name = self.rng.choice(self.names)
        symbol = self.rng.choice(self.pipe.symbols)
        started = time.time()
        try:
            self._faults[name](symbol)
        except Exception as exc:  # a soak run reports what went wrong, it does not stop
            log.error("injecting %s failed: %s", name, exc)
        everyone = name in ("disconnect", "server_shutdown", "kill writer", "kill query")
        done = Injected(started, time.time(), name, None if everyone else symbol)
        self.injected.append(done)
        log.info("injected %s", done.describe())
        return done

    def _admin(self, name: str, symbol: str | None = None, **params: object) -> None:
        self.pipe.fault(name, symbol, **params)

    def _rest_error_then_gap(self, symbol: str) -> None:
        status = self.rng.choice([429, 418, 500, 503])
        self._admin(
            "rest_error", symbol, status=status, count=self.rng.randint(1, 3), retry_after=1
        )
        self._admin("gap", symbol, count=1)

    def _slow_rest_then_gap(self, symbol: str) -> None:
        self._admin("slow_rest", symbol, seconds=2, count=1)
        self._admin("gap", symbol, count=1)

    def _kill_child(self, symbol: str) -> None:
        found = re.findall(rf"started collector {symbol} \(pid (\d+)\)", self.pipe.log("collector"))
        if found:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(found[-1]), signal.SIGKILL)

    def _kill_and_restart(self, name: str) -> None:
        self.pipe.procs[name].kill()
        time.sleep(PROCESS_OUTAGE)  # the outage itself
        self.pipe.restart(name)
