"""Binance's "How to manage a local order book correctly", as a pure state machine.

1. Buffer the depth events of the stream (up to a cap; the oldest go first when it is full).
2. Fetch a REST snapshot. While its ``lastUpdateId`` is older than the first buffered ``U``
   (no buffered event can straddle ``lastUpdateId + 1``), fetch again.
3. Drop buffered events with ``u <= lastUpdateId``; the first event applied must straddle:
   ``U <= lastUpdateId + 1 <= u``.
4. From then on every event must continue the book: ``U == previous u + 1`` on one connection.
   A gap (``U > previous u + 1``), or a crossed book after applying an event, raises
   ``BookGap``: the book is reset and buffering starts again.

Events with ``u`` at or below the book's id are stale or duplicates (a second connection that
overlaps the first during a handover) and are dropped, counted. An event that overlaps the book
(``U <= id < u``, only possible across two connections) is applied, as Binance's procedure
allows: its quantities are absolute values as of ``u``, so re-setting the levels that changed in
``U..id`` to their (unchanged) values is exact. Such overlaps are counted.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from typing import NoReturn

from collector.book import OrderBook
from collector.depth import Horizon
from collector.wire import DepthSnapshot, DepthUpdate
from shared.errors import BookGap


class Phase(enum.Enum):
    BUFFERING = "buffering"  # waiting for a snapshot; events go to the buffer
    STRADDLE = "straddle"  # snapshot applied; waiting for the event that straddles its id
    SYNCED = "synced"  # every applied event continued the previous one


class SnapshotVerdict(enum.Enum):
    ACCEPTED = "accepted"
    STALE = "stale"  # lastUpdateId + 1 < first buffered U: fetch again
    EARLY = "early"  # nothing buffered yet to compare the snapshot with: fetch later


@dataclass
class SyncStats:
    """Counters since the process started (the summary line reports their deltas)."""

    applied: int = 0  # events applied to the book
    dropped: int = 0  # buffered events dropped because u <= the snapshot's lastUpdateId
    duplicates: int = 0  # events dropped while synced because u <= the book's id
    overflow: int = 0  # buffered events dropped because the buffer was full
    gaps: int = 0  # BookGap raised (sequence gap, failed straddle, crossed book)
    overlaps: int = 0  # events applied while synced whose U was below the book's id + 1


class BookSync:
    """Keeps one OrderBook in step with the depth stream; raises BookGap when it cannot."""

    def __init__(self, book: OrderBook | None = None, buffer_cap: int = 2000) -> None:
        self.book = book if book is not None else OrderBook()
        self.buffer_cap = buffer_cap
        self.phase = Phase.BUFFERING
        self.update_id = 0  # the id of the last change in the book (lastUpdateId, then u)
        self.ts_event = 0  # E of the last applied event, ms
        self.ts_recv = 0  # local receive time of the last applied event, ms
        self.horizon = Horizon()  # the prices the last snapshot vouches for (collector/depth.py)
        self.stats = SyncStats()
        self._buffer: deque[tuple[DepthUpdate, int]] = deque(maxlen=buffer_cap)

    @property
    def synced(self) -> bool:
        """True when the book is exact as of ``update_id`` (at least one event applied)."""
        return self.phase is Phase.SYNCED

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    @property
    def first_buffered(self) -> int | None:
        """U of the oldest buffered event, or None when the buffer is empty."""
        return self._buffer[0][0].U if self._buffer else None

    def wants_snapshot(self) -> bool:
        """A snapshot is useful once at least one event is buffered to check it against."""
        return self.phase is Phase.BUFFERING and bool(self._buffer)

    def reset(self) -> None:
        """Forget the book and start buffering again."""
        self.phase = Phase.BUFFERING
        self.book.reset()
        self.update_id = 0
        self._buffer.clear()

    def adopt(self, other: BookSync) -> None:
        """Take over a refreshed book synced to the same update id, with its horizon."""
        self.book, self.horizon = other.book, other.horizon

    def on_event(self, event: DepthUpdate, recv_ms: int = 0) -> bool:
        """Buffer or apply one event; True when it changed the book. BookGap when out of sync."""
        phase = self.phase
        if phase is Phase.SYNCED and self.update_id + 1 == event.U <= event.u:
            # The common case, inlined: the event continues the book exactly.
            book = self.book
            book.apply(event.b, event.a)
            self.update_id = event.u
            self.ts_event = event.E
            self.ts_recv = recv_ms
            self.stats.applied += 1
            if book.crossed():
                self._crossed(event)
            return True
        if phase is Phase.BUFFERING:
            if len(self._buffer) == self._buffer.maxlen:
                self.stats.overflow += 1
            self._buffer.append((event, recv_ms))
            return False
        return self._apply(event, recv_ms)

    def on_snapshot(self, snapshot: DepthSnapshot) -> SnapshotVerdict:
        """Try to start the book from a REST snapshot; BookGap if the buffered events do not fit."""
        if self.phase is not Phase.BUFFERING:
            raise RuntimeError(f"snapshot offered in phase {self.phase.value}")
        if not self._buffer:
            return SnapshotVerdict.EARLY
        if snapshot.lastUpdateId + 1 < self._buffer[0][0].U:
            # Binance's rule "lastUpdateId < U: fetch again", relaxed by one: lastUpdateId == U-1
            # is still continued exactly by that first event (it straddles lastUpdateId + 1).
            return SnapshotVerdict.STALE
        self.book.reset(snapshot.bids, snapshot.asks)
        self.update_id = snapshot.lastUpdateId
        self.phase = Phase.STRADDLE
        pending = list(self._buffer)
        self._buffer.clear()
        for event, recv_ms in pending:
            if event.u <= snapshot.lastUpdateId:
                self.stats.dropped += 1
                continue
            self._apply(event, recv_ms)
        return SnapshotVerdict.ACCEPTED

    def _apply(self, event: DepthUpdate, recv_ms: int) -> bool:
        expected = self.update_id + 1
        if event.u < expected:
            self.stats.duplicates += 1
            return False
        first_id = event.U
        if first_id != expected:
            if first_id > expected:
                straddle = self.phase is Phase.STRADDLE
                self._gap(event, recv_ms)
                if straddle:
                    raise BookGap(
                        f"first event U={event.U} u={event.u} does not straddle "
                        f"lastUpdateId+1={expected}"
                    )
                raise BookGap(f"sequence gap: expected U={expected}, got U={event.U} u={event.u}")
            if self.phase is Phase.SYNCED:
                self.stats.overlaps += 1
        self.book.apply(event.b, event.a)
        self.update_id = event.u
        self.ts_event = event.E
        self.ts_recv = recv_ms
        self.stats.applied += 1
        if self.book.crossed():
            self._crossed(event)
        self.phase = Phase.SYNCED
        return True

    def _crossed(self, event: DepthUpdate) -> NoReturn:
        bid, ask = self.book.best_bid(), self.book.best_ask()
        self._gap(None, 0)
        raise BookGap(f"crossed book after u={event.u}: best bid {bid} >= best ask {ask}")

    def _gap(self, event: DepthUpdate | None, recv_ms: int) -> None:
        # The event that revealed a gap is newer than the book, so it starts the new buffer.
        self.stats.gaps += 1
        self.reset()
        if event is not None:
            self._buffer.append((event, recv_ms))
