"""Binance's JSON wire format: stream names and the payload of every event and reply."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from shared.fixedpoint import format_fixed
from simulator.market import (
    AggTradeEvent,
    BookTickerEvent,
    DepthEvent,
    Level,
    Snapshot,
    TradeEvent,
)

# stream kinds, as they appear after "<symbol>@"
DEPTH_100MS = "depth@100ms"
DEPTH_1000MS = "depth"
AGG_TRADE = "aggTrade"
TRADE = "trade"
BOOK_TICKER = "bookTicker"
KINDS = (DEPTH_100MS, DEPTH_1000MS, AGG_TRADE, TRADE, BOOK_TICKER)
_ALIASES = {"depth@1000ms": DEPTH_1000MS}

_STREAM = re.compile(r"([a-z0-9]{2,20})@([A-Za-z0-9@]+)")  # fullmatch: no "$" before "\n"


@dataclass(frozen=True, slots=True)
class Stream:
    """A parsed stream name such as ``btcusdt@depth@100ms``."""

    symbol: str  # upper case, e.g. BTCUSDT
    kind: str  # one of KINDS

    @property
    def name(self) -> str:
        return f"{self.symbol.lower()}@{self.kind}"


def parse_stream(name: str) -> Stream | None:
    """The stream a name denotes, or None if Binance would not know it (symbols are lower case)."""
    match = _STREAM.fullmatch(name)
    if not match:
        return None
    kind = _ALIASES.get(match.group(2), match.group(2))
    if kind not in KINDS:
        return None
    return Stream(match.group(1).upper(), kind)


def levels_json(levels: list[Level]) -> list[list[str]]:
    return [[format_fixed(price), format_fixed(qty)] for price, qty in levels]


def depth_payload(event: DepthEvent) -> dict[str, Any]:
    # {"e":"depthUpdate","E":ms,"s":"BTCUSDT","U":first id,"u":last id,"b":[[p,q]..],"a":[..]}
    return {
        "e": "depthUpdate",
        "E": event.event_ms,
        "s": event.symbol,
        "U": event.first_id,
        "u": event.last_id,
        "b": levels_json(event.bids),
        "a": levels_json(event.asks),
    }


def trade_payload(event: TradeEvent) -> dict[str, Any]:
    # {"e":"trade","E":ms,"s":..,"t":trade id,"p":price,"q":qty,"T":trade ms,"m":buyer maker,
    #  "M":true}
    return {
        "e": "trade",
        "E": event.event_ms,
        "s": event.symbol,
        "t": event.trade_id,
        "p": format_fixed(event.price),
        "q": format_fixed(event.qty),
        "T": event.trade_ms,
        "m": event.buyer_maker,
        "M": True,
    }


def agg_trade_payload(event: AggTradeEvent) -> dict[str, Any]:
    # {"e":"aggTrade","E":ms,"s":..,"a":agg id,"p":..,"q":..,"f":first id,"l":last id,"T":..,"m":..}
    return {
        "e": "aggTrade",
        "E": event.event_ms,
        "s": event.symbol,
        "a": event.agg_id,
        "p": format_fixed(event.price),
        "q": format_fixed(event.qty),
        "f": event.first_trade_id,
        "l": event.last_trade_id,
        "T": event.trade_ms,
        "m": event.buyer_maker,
        "M": True,
    }


def book_ticker_payload(event: BookTickerEvent) -> dict[str, Any]:
    # {"u":update id,"s":..,"b":best bid,"B":its qty,"a":best ask,"A":its qty}
    return {
        "u": event.update_id,
        "s": event.symbol,
        "b": format_fixed(event.bid_price),
        "B": format_fixed(event.bid_qty),
        "a": format_fixed(event.ask_price),
        "A": format_fixed(event.ask_qty),
    }


def snapshot_payload(snapshot: Snapshot) -> bytes:
    return orjson.dumps(
        {
            "lastUpdateId": snapshot.last_update_id,
            "bids": levels_json(snapshot.bids),
            "asks": levels_json(snapshot.asks),
        }
    )


def error_body(code: int, msg: str) -> bytes:
    """Binance's REST error body, e.g. ``{"code":-1121,"msg":"Invalid symbol."}``."""
    return orjson.dumps({"code": code, "msg": msg})


def combined_frame(stream_name: str, payload: bytes) -> bytes:
    """Wrap a raw payload the way ``/stream?streams=`` connections receive it."""
    return b'{"stream":"' + stream_name.encode("ascii") + b'","data":' + payload + b"}"


def server_shutdown_payload(now_ms: int) -> bytes:
    # Sent on both raw and combined connections, unwrapped: it is about the connection, not
    # a stream.
    return orjson.dumps({"e": "serverShutdown", "E": now_ms})
