"""Which second a record stands for, and which trades it carries. Pure: the caller passes the time.

The rule (documented in docs/architecture.md):

- At each wall-clock second boundary B the book is *captured* (best N levels, update id, E and
  receive time of the last applied event) for the second S = B - 1 that just ended, if and only
  if the book is synced at that moment. An unsynced book gives no capture, hence no record.
- Trades belong to the second of their exchange trade time ``T`` (ms): S holds the trades with
  ``S*1000 <= T < (S+1)*1000``.
- The record of S is *sent* at B + grace (default 0.25 s), so the trades of S that were still
  in flight at B are included. A trade that arrives after its second was sent is *late*: it is
  counted and dropped (never put into another second's record). Trades of a second that has no
  record (book out of sync) are counted as unrecorded and dropped.
- If the loop was held up past several boundaries, only the most recent ended second is
  captured; the earlier ones are counted as skipped (they were not observed, so no record).
- A second that began before the connection's first event (exchange time) gets no capture
  either, synced or not: its earlier trades were never received (``collector/service.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from shared.model import Level, Trade


@dataclass(frozen=True, slots=True)
class Capture:
    """The book as it stood at the end of ``second``."""

    second: int
    update_id: int
    ts_event: int  # ms
    ts_recv: int  # ms
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]


@dataclass(frozen=True, slots=True)
class Completed:
    """A second whose record can be sent now: its capture and its trades."""

    capture: Capture
    trades: tuple[Trade, ...]


class SecondAssembler:
    """Captures the book at second boundaries and pairs each capture with its trades."""

    def __init__(self, now: float, grace: float) -> None:
        self._grace = grace
        self.next_boundary = math.floor(now) + 1
        self._final = self.next_boundary - 2  # the newest second whose record time has passed
        self._captures: dict[int, Capture] = {}
        self._trades: dict[int, list[Trade]] = {}
        self.late_trades = 0
        self.unrecorded_trades = 0
        self.skipped_seconds = 0

    def boundary_due(self, now: float) -> bool:
        return now >= self.next_boundary

    def on_boundary(self, now: float, capture: Callable[[int], Capture | None]) -> int:
        """Capture the second that just ended; returns how many earlier seconds were skipped."""
        current = math.floor(now)
        if current + 1 < self.next_boundary - 1:
            # The wall clock went back: start over from now.
            self.next_boundary = current + 1
            return 0
        second = current - 1
        skipped = max(0, second - (self.next_boundary - 1))
        self.skipped_seconds += skipped
        self.next_boundary = current + 1
        taken = capture(second)
        if taken is not None:
            self._captures[second] = taken
        return skipped

    def add_trade(self, trade: Trade) -> bool:
        """Keep a trade for its second; False (and counted) when that second was already sent."""
        second = trade.ts_trade // 1000
        if second <= self._final:
            self.late_trades += 1
            return False
        self._trades.setdefault(second, []).append(trade)
        return True

    def completed(self, now: float) -> list[Completed]:
        """The records whose send time (end of second + grace) has come, oldest first."""
        done: list[Completed] = []
        while now >= self._final + 2 + self._grace:
            self._final += 1
            second = self._final
            trades = self._trades.pop(second, [])
            taken = self._captures.pop(second, None)
            if taken is None:
                self.unrecorded_trades += len(trades)
            else:
                trades.sort(key=lambda t: t.agg_id)
                done.append(Completed(taken, tuple(trades)))
        # Trades stamped before anything still open (only after a clock jump) are late too.
        for second in [s for s in self._trades if s <= self._final]:
            self.late_trades += len(self._trades.pop(second))
        return done

    def next_deadline(self) -> float:
        """The wall-clock time of the next send. A boundary needs no wake-up of its own: the
        capture is taken at the first look after it (before any frame read then), which is
        the same book, since a frame that arrived before the boundary woke the loop then."""
        return self._final + 2 + self._grace
