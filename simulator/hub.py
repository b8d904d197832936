"""Fans market events out to the WebSocket connections subscribed to their streams.

Each event is rendered to JSON once, and wrapped once for combined-stream connections. Stream
faults that concern the data itself (gaps, malformed frames) are applied here, so every
connection sees the same damaged stream, as it would from the exchange.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

import orjson

from simulator.faults import FaultBoard
from simulator.market import (
    AggTradeEvent,
    BookTickerEvent,
    DepthEvent,
    MarketEvent,
    TradeEvent,
    merge_depth,
)
from simulator.wire import (
    AGG_TRADE,
    BOOK_TICKER,
    DEPTH_100MS,
    DEPTH_1000MS,
    TRADE,
    agg_trade_payload,
    book_ticker_payload,
    combined_frame,
    depth_payload,
    trade_payload,
)

log = logging.getLogger(__name__)

_RENDER: dict[type, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    DepthEvent: (DEPTH_100MS, depth_payload),
    TradeEvent: (TRADE, trade_payload),
    AggTradeEvent: (AGG_TRADE, agg_trade_payload),
    BookTickerEvent: (BOOK_TICKER, book_ticker_payload),
}


class Subscriber(Protocol):
    """What the hub needs of a connection."""

    cid: int
    combined: bool

    def enqueue(self, data: bytes) -> None: ...


class StreamHub:
    """Stream name → subscribers, plus the 1000 ms depth aggregation."""

    def __init__(self, board: FaultBoard) -> None:
        self.board = board
        self.subscribers: dict[str, dict[int, Subscriber]] = {}
        self.pending_depth: dict[str, list[DepthEvent]] = {}
        self.counts: Counter[str] = Counter()  # per event kind, since the last summary

    def subscribe(self, conn: Subscriber, names: list[str]) -> None:
        for name in names:
            self.subscribers.setdefault(name, {})[conn.cid] = conn

    def unsubscribe(self, conn: Subscriber, names: list[str]) -> None:
        for name in names:
            subs = self.subscribers.get(name)
            if subs is not None:
                subs.pop(conn.cid, None)
                if not subs:
                    del self.subscribers[name]

    def publish(self, events: list[MarketEvent]) -> None:
        """Send each event to its stream's subscribers, applying pending stream faults."""
        for item in events:
            event = item
            kind, render = _RENDER[type(event)]
            name = f"{event.symbol.lower()}@{kind}"
            self.counts[kind] += 1
            if isinstance(event, DepthEvent):
                if self.board.take_gap(event.symbol):
                    self.counts["gapped"] += 1
                    # The 1000 ms stream loses the same events: what was pending goes too.
                    self.pending_depth.pop(event.symbol, None)
                    continue
                if f"{event.symbol.lower()}@{DEPTH_1000MS}" in self.subscribers:
                    self.pending_depth.setdefault(event.symbol, []).append(event)
            elif (
                isinstance(event, BookTickerEvent)
                and name in self.subscribers
                and self.board.take_corrupt_ticker(event.symbol)
            ):
                self.counts["corrupted"] += 1
                event = replace(event, bid_qty=event.bid_qty + 1)
            subs = self.subscribers.get(name)
            if not subs:
                continue
            self._send(name, orjson.dumps(render(event)), subs, isinstance(event, DepthEvent))

    def flush_slow_depth(self, now_ms: int) -> None:
        """Emit the ``@depth`` (1000 ms) events: every diff of the last second, merged."""
        pending, self.pending_depth = self.pending_depth, {}
        for symbol, events in pending.items():
            name = f"{symbol.lower()}@{DEPTH_1000MS}"
            subs = self.subscribers.get(name)
            if subs and events:
                payload = orjson.dumps(depth_payload(merge_depth(events, now_ms)))
                self._send(name, payload, subs, True)

    def _send(self, name: str, raw: bytes, subs: dict[int, Subscriber], depth: bool) -> None:
        combined: bytes | None = None
        malformed = depth and self.board.take_malformed(name.partition("@")[0].upper())
        if malformed:
            self.counts["malformed"] += 1
        for conn in list(subs.values()):
            data = raw
            if conn.combined:
                if combined is None:
                    combined = combined_frame(name, raw)
                data = combined
            if malformed:
                conn.enqueue(data[: max(1, len(data) // 2)])  # truncated: not parsable JSON
            conn.enqueue(data)
