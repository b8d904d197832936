"""The order book and the market events every source produces (pure: no I/O, no clock).

A source emits ``MarketEvent`` objects in exchange order; the engine fans them out to the
WebSocket streams, and the REST snapshot is always the book after the last emitted depth event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Protocol

from sortedcontainers import SortedDict

Level = tuple[int, int]  # (price, qty), scaled by 1e8; qty 0 deletes the level


@dataclass(slots=True)
class DepthEvent:
    """One ``depthUpdate``: every level change with update ids ``first_id..last_id``."""

    symbol: str
    first_id: int  # Binance "U"
    last_id: int  # Binance "u"
    event_ms: int  # Binance "E"
    bids: list[Level]
    asks: list[Level]


@dataclass(slots=True)
class TradeEvent:
    """One ``trade`` (a single maker fill)."""

    symbol: str
    trade_id: int  # "t"
    price: int  # "p"
    qty: int  # "q"
    trade_ms: int  # "T"
    event_ms: int  # "E"
    buyer_maker: bool  # "m": True means the taker sold


@dataclass(slots=True)
class AggTradeEvent:
    """One ``aggTrade``: consecutive trades with the same time, price and maker side."""

    symbol: str
    agg_id: int  # "a"
    price: int  # "p"
    qty: int  # "q"
    first_trade_id: int  # "f"
    last_trade_id: int  # "l"
    trade_ms: int  # "T"
    event_ms: int  # "E"
    buyer_maker: bool  # "m"


@dataclass(slots=True)
class BookTickerEvent:
    """One ``bookTicker``: the best bid and ask as of update id ``update_id``."""

    symbol: str
    update_id: int  # "u"
    bid_price: int  # "b"
    bid_qty: int  # "B"
    ask_price: int  # "a"
    ask_qty: int  # "A"


MarketEvent = DepthEvent | TradeEvent | AggTradeEvent | BookTickerEvent


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What ``GET /api/v3/depth`` returns."""

    last_update_id: int
    bids: list[Level]  # best first
    asks: list[Level]  # best first


class MarketSource(Protocol):
    """A market for a set of symbols that advances with time."""

    symbols: tuple[str, ...]

    def advance(self, now_ms: int) -> list[MarketEvent]:
        """Every event up to wall-clock ``now_ms``, in order."""
        ...

    def snapshot(self, symbol: str, limit: int) -> Snapshot: ...

    def describe(self, symbol: str) -> dict[str, object]:
        """Per-symbol facts for ``GET /admin/state``."""
        ...


@dataclass
class Book:
    """Both sides of one book; bids and asks are price → qty maps."""

    bids: SortedDict = field(default_factory=SortedDict)
    asks: SortedDict = field(default_factory=SortedDict)

    def apply(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Set each level's quantity; 0 deletes it (absent levels are ignored, as Binance does)."""
        for side, changes in ((self.bids, bids), (self.asks, asks)):
            for price, qty in changes:
                if qty:
                    side[price] = qty
                else:
                    side.pop(price, None)

    def best_bid(self) -> Level | None:
        return self.bids.peekitem(-1) if self.bids else None

    def best_ask(self) -> Level | None:
        return self.asks.peekitem(0) if self.asks else None

    def top_bids(self, limit: int) -> list[Level]:
        keys = self.bids.keys()
        return [(p, self.bids[p]) for p in reversed(keys[-limit:])] if limit else []

    def top_asks(self, limit: int) -> list[Level]:
        return [(p, self.asks[p]) for p in islice(self.asks.keys(), limit)]

    def is_crossed(self) -> bool:
        bid, ask = self.best_bid(), self.best_ask()
        return bid is not None and ask is not None and bid[0] >= ask[0]

    def copy(self) -> Book:
        return Book(SortedDict(self.bids), SortedDict(self.asks))


def transition_changes(current: SortedDict, target: SortedDict) -> list[Level]:
    """The level changes that turn one side of a book into another (deletes, then sets)."""
    changes = [(price, 0) for price in current if price not in target]
    changes.extend((price, qty) for price, qty in target.items() if current.get(price) != qty)
    changes.sort()
    return changes


def merge_depth(events: list[DepthEvent], event_ms: int) -> DepthEvent:
    """Fold consecutive depth events into one (the ``@depth`` 1000 ms stream): last value wins."""
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    for event in events:
        bids.update(event.bids)
        asks.update(event.asks)
    return DepthEvent(
        events[0].symbol,
        events[0].first_id,
        events[-1].last_id,
        event_ms,
        sorted(bids.items(), reverse=True),
        sorted(asks.items()),
    )


def aggregate_trades(trades: list[TradeEvent], next_agg_id: int) -> list[AggTradeEvent]:
    """Group consecutive trades with the same time, price and maker side into aggTrades."""
    result: list[AggTradeEvent] = []
    for trade in trades:
        last = result[-1] if result else None
        if (
            last is not None
            and last.trade_ms == trade.trade_ms
            and last.price == trade.price
            and last.buyer_maker == trade.buyer_maker
            and last.last_trade_id + 1 == trade.trade_id
        ):
            last.qty += trade.qty
            last.last_trade_id = trade.trade_id
            last.event_ms = trade.event_ms
            continue
        result.append(
            AggTradeEvent(
                trade.symbol,
                next_agg_id + len(result),
                trade.price,
                trade.qty,
                trade.trade_id,
                trade.trade_id,
                trade.trade_ms,
                trade.event_ms,
                trade.buyer_maker,
            )
        )
    return result
