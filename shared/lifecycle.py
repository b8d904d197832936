"""Graceful shutdown: signal handlers only record the signal; loops poll the flag."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class StopFlag:
    """Truthy once a stop was asked for, by a signal or by ``request()``."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._requested = False

    def __bool__(self) -> bool:
        return self._requested or self.signum is not None

    def request(self) -> None:
        """Ask the loop to stop (from a test or another thread)."""
        self._requested = True


@contextmanager
def stop_on_signals() -> Iterator[StopFlag]:
    """Install SIGINT/SIGTERM handlers that set a StopFlag, and restore the old ones after."""
    flag = StopFlag()

    # The handler must not take locks (Event.set() can deadlock against an interrupted wait),
    # so it only records the signal number.
    def record(signum: int, frame: FrameType | None) -> None:
        flag.signum = signum

    if threading.current_thread() is not threading.main_thread():
        # Signals can only be handled on the main thread; tests drive the flag directly.
        yield flag
        return
    previous = {s: signal.signal(s, record) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
