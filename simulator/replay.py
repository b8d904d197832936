"""Replays the real recordings at real speed (or faster), looping forever without going back.

The served book starts as the recording's REST snapshot and takes every depth event as it is
emitted, so ``GET /api/v3/depth`` is always the real book after the last emitted event
(``lastUpdateId`` = that event's ``u``). Event times ``E`` are the wall-clock time of emission.

Looping: when the recording ends, the book must jump back to the recording's start. We emit one
extra ``depthUpdate`` with continuing update ids that turns the end book into the start book
(deletes plus sets, ids ``U = last u + 1 .. u = U + changes - 1``), then replay the recording
again with every update id shifted so that its first event has ``U = that u + 1``. A client
following Binance's procedure stays in sync across the loop without a resync, exactly as it
would if the market had moved that much within 100 ms; trade and aggTrade ids continue too.
Every loop shifts ids by the same ``update_id_period``, so a test can map ids back.
"""

from __future__ import annotations

from dataclasses import replace

from simulator.market import (
    AggTradeEvent,
    Book,
    BookTickerEvent,
    DepthEvent,
    MarketEvent,
    Snapshot,
    TradeEvent,
    transition_changes,
)
from simulator.recordings import Recording

LOOP_PAUSE_NS = 100_000_000  # recording time between the last event and the loop's first


class SymbolReplay:
    """The replay of one symbol's recording."""

    def __init__(self, recording: Recording, speed: float, start_ms: int) -> None:
        self.recording = recording
        self.speed = speed
        self.start_ms = start_ms
        timeline = recording.timeline
        self.rec_start_ns = timeline[0].recv_ns
        self.duration_ns = timeline[-1].recv_ns - self.rec_start_ns + LOOP_PAUSE_NS
        self.start_book = _book_of(recording.snapshot)
        self.book = self.start_book.copy()
        self.last_update_id = recording.snapshot.last_update_id
        depth = [t.event for t in timeline if isinstance(t.event, DepthEvent)]
        trades = [t.event for t in timeline if isinstance(t.event, TradeEvent)]
        aggs = [t.event for t in timeline if isinstance(t.event, AggTradeEvent)]
        self.first_id, self.last_id = depth[0].first_id, depth[-1].last_id
        self.trade_period = trades[-1].trade_id - trades[0].trade_id + 1 if trades else 0
        self.agg_period = aggs[-1].agg_id - aggs[0].agg_id + 1 if aggs else 0
        self.loop = 0
        self.position = 0  # index of the next timeline item
        self.id_shift = 0
        self.update_id_period = 0  # known once the first loop ends
        self.emitted = 0

    def advance(self, now_ms: int) -> list[MarketEvent]:
        elapsed_ns = (now_ms - self.start_ms) * 1_000_000 * self.speed
        events: list[MarketEvent] = []
        timeline = self.recording.timeline
        while True:
            loop_start = self.loop * self.duration_ns
            if self.position >= len(timeline):
                if elapsed_ns < loop_start + self.duration_ns:
                    break
                events.append(self._start_next_loop(now_ms))
                continue
            item = timeline[self.position]
            if item.recv_ns - self.rec_start_ns + loop_start > elapsed_ns:
                break
            self.position += 1
            events.append(self._shifted(item.event, now_ms))
        self.emitted += len(events)
        return events

    def snapshot(self, limit: int) -> Snapshot:
        return Snapshot(self.last_update_id, self.book.top_bids(limit), self.book.top_asks(limit))

    def _shifted(self, event: MarketEvent, now_ms: int) -> MarketEvent:
        """The event as this loop emits it: ids shifted, times moved to now."""
        loop = self.loop
        if isinstance(event, DepthEvent):
            shifted = replace(
                event,
                first_id=event.first_id + self.id_shift,
                last_id=event.last_id + self.id_shift,
                event_ms=now_ms,
            )
            self.book.apply(event.bids, event.asks)
            self.last_update_id = shifted.last_id
            return shifted
        if isinstance(event, TradeEvent):
            return replace(
                event,
                trade_id=event.trade_id + loop * self.trade_period,
                trade_ms=now_ms - (event.event_ms - event.trade_ms),
                event_ms=now_ms,
            )
        if isinstance(event, AggTradeEvent):
            return replace(
                event,
                agg_id=event.agg_id + loop * self.agg_period,
                first_trade_id=event.first_trade_id + loop * self.trade_period,
                last_trade_id=event.last_trade_id + loop * self.trade_period,
                trade_ms=now_ms - (event.event_ms - event.trade_ms),
                event_ms=now_ms,
            )
        assert isinstance(event, BookTickerEvent)
        return replace(event, update_id=event.update_id + self.id_shift)

    def _start_next_loop(self, now_ms: int) -> DepthEvent:
        """The diff from the end book back to the start book; ids continue."""
        bids = transition_changes(self.book.bids, self.start_book.bids)
        asks = transition_changes(self.book.asks, self.start_book.asks)
        bids.reverse()  # best first, as Binance lists bids
        first = self.last_update_id + 1
        last = first + max(1, len(bids) + len(asks)) - 1
        transition = DepthEvent(self.recording.symbol, first, last, now_ms, bids, asks)
        self.book = self.start_book.copy()
        self.last_update_id = last
        self.update_id_period = last + 1 - self.first_id - self.id_shift
        self.id_shift = last + 1 - self.first_id
        self.loop += 1
        self.position = 0
        return transition

    def describe(self) -> dict[str, object]:
        bid, ask = self.book.best_bid(), self.book.best_ask()
        return {
            "last_update_id": self.last_update_id,
            "best_bid": bid[0] if bid else None,
            "best_ask": ask[0] if ask else None,
            "levels": [len(self.book.bids), len(self.book.asks)],
            "loop": self.loop,
            "position": self.position,
            "timeline_length": len(self.recording.timeline),
            "update_id_shift": self.id_shift,
            "update_id_period": self.update_id_period,
            "recording_first_update_id": self.first_id,
            "files": list(self.recording.files),
        }


class ReplaySource:
    """Replays of several symbols, sharing one wall clock."""

    def __init__(self, recordings: list[Recording], speed: float, start_ms: int) -> None:
        self.replays = {r.symbol: SymbolReplay(r, speed, start_ms) for r in recordings}
        self.symbols = tuple(self.replays)

    def advance(self, now_ms: int) -> list[MarketEvent]:
        events: list[MarketEvent] = []
        for replay in self.replays.values():
            events.extend(replay.advance(now_ms))
        return events

    def snapshot(self, symbol: str, limit: int) -> Snapshot:
        return self.replays[symbol].snapshot(limit)

    def describe(self, symbol: str) -> dict[str, object]:
        return self.replays[symbol].describe()


def _book_of(snapshot: Snapshot) -> Book:
    book = Book()
    book.apply(snapshot.bids, snapshot.asks)
    return book
