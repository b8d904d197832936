"""Recorder: turns the synced book into records and live books, publishes them, keeps them."""

from __future__ import annotations

from collector.backfill import BackfillServer, RecordBuffer
from collector.depth import clip
from collector.publisher import SnapshotPublisher
from collector.seconds import Capture
from collector.summary import Counters
from collector.sync import BookSync
from shared.clock import Clock
from shared.model import BookSnapshot, LiveBook, SecondTrades, Trade


class Recorder:
    """Numbers and sends ``snap.<SYM>`` records and ``book.<SYM>`` live books of one session."""

    def __init__(
        self,
        symbol: str,
        session: int,
        *,
        levels: int,
        live_levels: int,
        live_interval: float,
        publisher: SnapshotPublisher,
        buffer: RecordBuffer,
        backfill: BackfillServer,
        clock: Clock,
        counters: Counters,
    ) -> None:
        self.symbol = symbol
        self.session = session
        self._levels = levels
        self._live_levels = live_levels
        self._live_interval = live_interval
        self._publisher = publisher
        self._buffer = buffer
        self._backfill = backfill
        self._clock = clock
        self._counters = counters
        self.seq = 0  # of the last record: 1, 2, 3, ... with no hole within a session
        self._live_seq = 0
        self._live_uid = 0
        self._next_live = 0.0

    def capture(self, sync: BookSync, second: int) -> Capture | None:
        """The book for the record of ``second``, or None when it is not in sync (no record)."""
        if not sync.synced:
            return None
        bids, asks = sync.book.top(self._levels)
        return Capture(second, sync.update_id, sync.ts_event, sync.ts_recv, bids, asks)

    def publish(self, capture: Capture, trades: tuple[Trade, ...]) -> None:
        """Send one record and keep its bytes for the writer's backfill."""
        self.seq += 1
        book = BookSnapshot(
            symbol=self.symbol,
            second=capture.second,
            session=self.session,
            seq=self.seq,
            update_id=capture.update_id,
            ts_event=capture.ts_event,
            ts_recv=capture.ts_recv,
            bids=capture.bids,
            asks=capture.asks,
        )
        frames = self._publisher.publish_second(
            book, SecondTrades(self.symbol, capture.second, trades)
        )
        self._buffer.add(capture.second, frames)
        self._backfill.seq = self.seq
        self._counters.records += 1

    def live(self, sync: BookSync) -> None:
        """Send the live book when it is synced, changed, and the interval has passed."""
        now = self._clock.monotonic()
        if now < self._next_live or not sync.synced or sync.update_id == self._live_uid:
            return
        self._next_live = now + self._live_interval
        self._live_uid = sync.update_id
        self._live_seq += 1
        # Only the levels the snapshot vouches for: the live book never shows a guess.
        bids, asks = clip(*sync.book.top(self._live_levels), sync.horizon)
        book = LiveBook(
            symbol=self.symbol,
            session=self.session,
            seq=self._live_seq,
            update_id=sync.update_id,
            ts_event=sync.ts_event,
            ts_recv=sync.ts_recv,
            bids=bids,
            asks=asks,
        )
        self._publisher.publish_live(book)
        self._counters.live += 1
