"""Rate-limited logging for reject paths: one line per cause per interval, with a count.

A hostile peer chooses how often a reject path runs, so such a path must not log per event::

    rejects = RateLimitedLog(log, interval=60.0)
    rejects.reject("unknown symbol", repr(symbol[:40]))  # in the hot path: O(1)
    rejects.flush()  # from the loop's tick: emits what is due

The first reject of a cause is logged at once (an operator sees a new problem immediately);
later ones within ``interval`` seconds only count, and the next line for that cause, at least
``interval`` seconds after the previous one, carries how many there were and the latest detail.
So a log grows by at most ``len(causes)`` lines per interval whatever the input rate. Causes are
short fixed strings written in code; a detail taken from input is cut to ``MAX_DETAIL``
characters, and more than ``max_causes`` distinct causes share one ``other`` line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_DETAIL = 120
OTHER = "other"


@dataclass(slots=True)
class _Cause:
    last_line: float  # monotonic time of the last line written for this cause
    pending: int = 0  # rejects since that line
    detail: str = ""  # the latest of them


class RateLimitedLog:
    """Aggregates rejects per cause; see the module docstring."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 60.0,
        *,
        level: int = logging.WARNING,
        clock: Callable[[], float] = time.monotonic,
        max_causes: int = 32,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self._log = logger
        self._interval = interval
        self._level = level
        self._clock = clock
        self._max_causes = max_causes
        self._causes: dict[str, _Cause] = {}
        self.totals: dict[str, int] = {}  # every reject ever counted, per cause

    def reject(self, cause: str, detail: str = "") -> None:
        """Count one reject; write a line only if this cause has none in the last interval."""
        if cause not in self._causes and len(self._causes) >= self._max_causes:
            cause = OTHER
        self.totals[cause] = self.totals.get(cause, 0) + 1
        now = self._clock()
        state = self._causes.get(cause)
        if state is None:
            self._causes[cause] = _Cause(last_line=now)
            self._write(cause, 1, detail, first=True)
            return
        state.pending += 1
        state.detail = detail
        if now - state.last_line >= self._interval:
            self._emit(cause, state, now)

    def flush(self, *, force: bool = False) -> None:
        """Write the count of every cause whose interval has passed (all of them if ``force``)."""
        now = self._clock()
        for cause, state in self._causes.items():
            if state.pending and (force or now - state.last_line >= self._interval):
                self._emit(cause, state, now)

    def _emit(self, cause: str, state: _Cause, now: float) -> None:
        elapsed = now - state.last_line
        self._write(cause, state.pending, state.detail, first=False, elapsed=elapsed)
        state.last_line = now
        state.pending = 0
        state.detail = ""

    def _write(
        self, cause: str, count: int, detail: str, *, first: bool, elapsed: float = 0.0
    ) -> None:
        if not self._log.isEnabledFor(self._level):
            return
        shown = detail[:MAX_DETAIL]
        if not shown.isprintable():  # a "\n" from input must not split or forge a log line
            shown = repr(shown)[1:-1]
        if len(detail) > MAX_DETAIL:
            shown += "…"
        suffix = f": {shown}" if shown else ""
        if first:
            self._log.log(
                self._level,
                "Rejected (%s)%s; further rejects of this cause are counted, one line per %.0f s",
                cause,
                suffix,
                self._interval,
            )
        else:
            self._log.log(
                self._level, "Rejected (%s) %d times in %.0f s%s", cause, count, elapsed, suffix
            )
