"""Handover: what a replacement connection sent, held until it has caught up with the book.

Before Binance's 24-hour cut, or on ``serverShutdown``, a second connection opens beside the
first. Its frames are parsed and held here while the old connection keeps feeding the book. As
soon as the new stream's first depth event continues (or overlaps) the book, ``U <= id + 1``,
the feed switches and the held messages are replayed: duplicates (``u <= id``) and already seen
trades are dropped by the usual rules, so the book stays in sync across the switch. If the new
connection has not caught up within the timeout it is taken anyway, and a gap, if any, resyncs.
"""

from __future__ import annotations

import logging

from collector.wire import DepthUpdate, Message
from shared.clock import Clock

log = logging.getLogger(__name__)


class HeldFrames:
    """Messages of the standby connection, oldest first, and when the handover began."""

    def __init__(self, clock: Clock, timeout: float) -> None:
        self._clock = clock
        self._timeout = timeout
        self._started = 0.0
        self._messages: list[tuple[Message, int]] = []

    def begin(self) -> None:
        self._started = self._clock.monotonic()
        self._messages.clear()

    def hold(self, message: Message, recv_ms: int) -> None:
        self._messages.append((message, recv_ms))

    def clear(self) -> None:
        self._messages.clear()

    def ready(self, synced: bool, update_id: int) -> bool:
        """True when the switch may happen: caught up with the book, or out of time."""
        first = next((m for m, _ in self._messages if isinstance(m, DepthUpdate)), None)
        if first is not None and (not synced or _first_id(first) <= update_id + 1):
            return True
        if self._clock.monotonic() - self._started > self._timeout:
            log.warning("the new connection did not catch up in time; switching anyway")
            return True
        return False

    def take(self) -> list[tuple[Message, int]]:
        """Hand over the held messages (and forget them)."""
        messages, self._messages = self._messages, []
        return messages


def _first_id(event: DepthUpdate) -> int:
    return event.U  # a function: ruff reads `event.U <= x` as a Yoda condition
