"""Records that wait until the connection vouches for their second (``collector/liveness.py``)."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable

from collector.liveness import Liveness, Verdict
from collector.recorder import Recorder
from collector.seconds import Completed, SecondAssembler
from collector.summary import Counters

log = logging.getLogger(__name__)


class Outbox:
    """Publishes completed seconds in order once vouched for; drops those nothing vouches for."""

    def __init__(
        self,
        liveness: Liveness,
        recorder: Recorder,
        seconds: SecondAssembler,
        counters: Counters,
    ) -> None:
        self._liveness = liveness
        self._recorder = recorder
        self._seconds = seconds
        self._counters = counters
        self._waiting: deque[Completed] = deque()
        self.quiet = False  # True while seconds go unrecorded for want of vouching

    @property
    def waiting(self) -> bool:
        """Seconds are queued for a verdict (which frames and time may change at any turn)."""
        return bool(self._waiting)

    def release(self, completed: Iterable[Completed], now: float) -> None:
        """Queue the newly completed seconds, then send (or drop) all that can be decided."""
        waiting = self._waiting
        waiting.extend(completed)
        while waiting:
            done = waiting[0]
            verdict = self._liveness.verdict(done.capture.second, now)
            if verdict is Verdict.WAIT:
                return
            waiting.popleft()
            if verdict is Verdict.VOUCHED:
                if self.quiet:
                    self.quiet = False
                    log.info("stream speaks again: second %d vouched for", done.capture.second)
                self._recorder.publish(done.capture, done.trades)
                continue
            self._counters.silent += 1
            self._seconds.unrecorded_trades += len(done.trades)
            if not self.quiet:
                self.quiet = True
                log.warning(
                    "stream silent: nothing vouched for second %d within %.1f s of its end "
                    "(no frame, ping unanswered): no record",
                    done.capture.second,
                    self._liveness.ping_after + self._liveness.pong_timeout,
                )
