"""Binance wire structs (Binance's own field names) and their parsing; they never leave collector/.

A frame that is not exactly one of the shapes below raises ``MalformedFrame``: the caller logs it,
counts it and drops it, and the book is never touched by a half-parsed event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from shared.errors import DecodeError
from shared.fixedpoint import MAX_INT64, parse_fixed
from shared.model import Level


class MalformedFrame(DecodeError):
    """A WebSocket frame or REST body that is not a well-formed Binance message."""


# Not frozen: a frozen dataclass's __init__ sets each field through object.__setattr__, which cost
# ~0.5-0.9 µs per message, more than all the checks of an aggTrade. Nothing mutates them.
@dataclass(slots=True)
class DepthUpdate:
    """``<symbol>@depth@100ms``: the levels that changed between update ids U and u.

    {"e": "depthUpdate", "E": 1723161255208, "s": "BTCUSDT", "U": 50093239189, "u": 50093239202,
     "b": [["61737.63000000", "0.00000000"]], "a": [["61837.64000000", "1.54698000"]]}
    """

    E: int  # event time, ms (exchange clock)
    s: str  # symbol
    U: int  # first update id in this event
    u: int  # final update id in this event
    b: list[Level]  # bids to set: (price, absolute qty), qty 0 deletes the level
    a: list[Level]  # asks to set, same rule


@dataclass(slots=True)
class AggTrade:
    """``<symbol>@aggTrade``: trades of one taker order at one price.

    {"e": "aggTrade", "E": 1723161255343, "s": "BTCUSDT", "a": 3012345, "p": "61837.63000000",
     "q": "0.02000000", "f": 3735683259, "l": 3735683259, "T": 1723161255342, "m": true}
    """

    E: int  # event time, ms
    s: str  # symbol
    a: int  # aggregate trade id, strictly increasing per symbol
    p: int  # price, scaled 1e8
    q: int  # quantity, scaled 1e8
    f: int  # first trade id
    l: int  # last trade id  # noqa: E741 - Binance's field name
    T: int  # trade time, ms: what decides the second a trade belongs to
    m: bool  # True: the buyer was the maker (the taker sold)


@dataclass(frozen=True, slots=True)
class DepthSnapshot:
    """REST ``GET /api/v3/depth``: the book at ``lastUpdateId``.

    {"lastUpdateId": 50093239218, "bids": [["61837.63000000", "3.78826000"]],
     "asks": [["61837.64000000", "1.54698000"]]}
    """

    lastUpdateId: int  # noqa: N815 - Binance's field name; the book's update id
    bids: list[Level]  # best first, qty > 0
    asks: list[Level]  # best first, qty > 0


@dataclass(frozen=True, slots=True)
class ServerShutdown:
    """``{"e": "serverShutdown", "E": 1723161255343}``: the server closes this connection soon."""

    E: int  # event time, ms


@dataclass(slots=True)
class BookTicker:
    """``<symbol>@bookTicker``: the best bid and ask as of update id ``u`` (no "e" field).

    {"u": 50093239202, "s": "BTCUSDT", "b": "61837.63000000", "B": "3.78826000",
     "a": "61837.64000000", "A": "1.54698000"}
    """

    u: int  # the order book update id this is the top of
    s: str  # symbol
    b: int  # best bid price, scaled 1e8
    B: int  # best bid quantity
    a: int  # best ask price
    A: int  # best ask quantity


@dataclass(frozen=True, slots=True)
class Ignored:
    """A well-formed frame we do not act on (a subscription reply, another stream)."""

    what: str


Message = DepthUpdate | AggTrade | BookTicker | ServerShutdown | Ignored

_ZERO = "0.00000000"
# Number text → scaled int (never 0). Prices of one symbol repeat all the time and so do most
# quantities, so a hit turns a parse into one dict lookup. Only text that parsed exactly goes in;
# when full it is cleared. Measured on the real recordings (BTCUSDT, ETHUSDT; µs per frame of
# parse_frame): no cache 14.2/15.1, 4,096 entries 10.7/10.4, 200,000 entries 8.7/8.1. The
# 200,000 bound let each collector grow by ~27 MB (~140 B per entry); 4,096 entries (~0.6 MB)
# keep two thirds of the saving (~0.01 % of a core per symbol at BTCUSDT's rate) inside the
# per-symbol memory budget.
_FIXED_CACHE: dict[object, int] = {}
_FIXED_CACHE_SIZE = 4096


def cached_numbers() -> int:
    """Entries in the number cache now (for the summary line: it is bounded, then cleared)."""
    return len(_FIXED_CACHE)


def parse_frame(text: str | bytes) -> Message:
    """Parse one combined-stream (or raw-stream) frame; MalformedFrame on anything unexpected."""
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise MalformedFrame(f"not JSON: {exc}") from exc
    if not isinstance(frame, dict):
        raise MalformedFrame(f"expected a JSON object, got {type(frame).__name__}")
    # Combined streams wrap the event: {"stream": "btcusdt@depth@100ms", "data": {...}}.
    data = frame.get("data", frame) if "stream" in frame else frame
    if not isinstance(data, dict):
        raise MalformedFrame("'data' is not a JSON object")
    kind = data.get("e")
    try:
        if kind == "depthUpdate":
            # The fast path accepts exactly what the checked path accepts, in fewer steps (ids
            # and times are all in range when their bitwise or is); anything else takes the
            # checked path, which names the first bad or missing field as it always did.
            try:
                when, symbol, first, last = data["E"], data["s"], data["U"], data["u"]
            except KeyError:
                return _checked_depth_update(data)
            if (
                type(when) is int
                and type(first) is int
                and type(last) is int
                and type(symbol) is str
                and 0 <= (when | first | last) <= MAX_INT64
                and first <= last
            ):
                bids, asks = parse_levels(data["b"]), parse_levels(data["a"])
                return DepthUpdate(when, symbol, first, last, bids, asks)
            return _checked_depth_update(data)
        if kind == "aggTrade":
            try:
                when, symbol, agg_id = data["E"], data["s"], data["a"]
                price_text, qty_text = data["p"], data["q"]
                first, last, traded, maker = data["f"], data["l"], data["T"], data["m"]
            except KeyError:
                return _checked_agg_trade(data)
            if (
                type(when) is int
                and type(agg_id) is int
                and type(first) is int
                and type(last) is int
                and type(traded) is int
                and type(symbol) is str
                and type(price_text) is str  # so never an unhashable key for the cache
                and type(qty_text) is str
                and type(maker) is bool
                and 0 <= (when | agg_id | first | last | traded) <= MAX_INT64
            ):
                # The cache holds no zero, so a hit is a positive number.
                get = _FIXED_CACHE.get
                price = get(price_text) or _positive(_fixed(price_text), "price")
                qty = get(qty_text) or _positive(_fixed(qty_text), "quantity")
                return AggTrade(when, symbol, agg_id, price, qty, first, last, traded, maker)
            return _checked_agg_trade(data)
        if kind == "serverShutdown":
            return ServerShutdown(E=_uint(data.get("E", 0)))
        if kind is None and "u" in data and "A" in data:
            return BookTicker(
                u=_uint(data["u"]),
                s=_str(data["s"]),
                b=_positive(_fixed(data["b"]), "bid price"),
                B=_fixed(data["B"]),
                a=_positive(_fixed(data["a"]), "ask price"),
                A=_fixed(data["A"]),
            )
    except KeyError as exc:
        raise MalformedFrame(f"{kind or 'bookTicker'} lacks field {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise MalformedFrame(f"{kind}: {exc}") from exc
    if kind is None and "result" in data and "id" in data:
        return Ignored("subscription reply")
    raise MalformedFrame(f"unknown event type {str(kind)[:40]!r}")


def _checked_depth_update(data: dict[str, Any]) -> DepthUpdate:
    event = DepthUpdate(
        E=_uint(data["E"]),
        s=_str(data["s"]),
        U=_uint(data["U"]),
        u=_uint(data["u"]),
        b=parse_levels(data["b"]),
        a=parse_levels(data["a"]),
    )
    if event.u < event.U:
        raise ValueError(f"U={event.U} is after u={event.u}")
    return event


def _checked_agg_trade(data: dict[str, Any]) -> AggTrade:
    return AggTrade(
        E=_uint(data["E"]),
        s=_str(data["s"]),
        a=_uint(data["a"]),
        p=_positive(_fixed(data["p"]), "price"),
        q=_positive(_fixed(data["q"]), "quantity"),
        f=_uint(data["f"]),
        l=_uint(data["l"]),
        T=_uint(data["T"]),
        m=_bool(data["m"]),
    )


def parse_snapshot(body: bytes) -> DepthSnapshot:
    """Parse a REST depth body; MalformedFrame unless it is a sane, uncrossed book."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedFrame(f"REST depth is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedFrame("REST depth is not a JSON object")
    try:
        snap = DepthSnapshot(
            lastUpdateId=_uint(data["lastUpdateId"]),
            bids=parse_levels(data["bids"]),
            asks=parse_levels(data["asks"]),
        )
    except KeyError as exc:
        raise MalformedFrame(f"REST depth lacks field {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise MalformedFrame(f"REST depth: {exc}") from exc
    if any(q == 0 for _, q in snap.bids) or any(q == 0 for _, q in snap.asks):
        raise MalformedFrame("REST depth holds a zero quantity")
    return snap


def parse_levels(raw: object) -> list[Level]:
    """``[["61837.63000000", "3.78826000"], ...]`` → ``[(6183763000000, 378826000), ...]``."""
    if type(raw) is not list:
        raise TypeError("levels must be a list")
    levels: list[Level] = []
    append = levels.append
    get = _FIXED_CACHE.get
    for item in raw:
        # The hot path, tuned because it runs ~40 times per depth event: about half of all
        # quantities are the literal zero that deletes a level, and the text of a price or
        # quantity seen before comes from the cache (one str hash instead of a parse).
        if type(item) is not list:
            raise ValueError(f"level {str(item)[:40]} is not [price, qty]")
        text_price, text_qty = item  # ValueError unless exactly two items
        price = get(text_price)  # TypeError on an unhashable item
        if price is None:
            price = _fixed(text_price)
            if price == 0:
                raise ValueError("level with price 0")
        if text_qty == _ZERO:
            append((price, 0))
        else:
            append((price, get(text_qty) or _fixed(text_qty)))
    return levels


def _fixed(text: object) -> int:
    """Number text → scaled int; ValueError unless ``parse_fixed`` accepts it. Cached unless 0."""
    # Fast path for Binance's own form "123.45678900": drop the dot and read the digits. Only
    # the first dot goes, so a second one fails isdigit(). isascii() + isdigit() rejects signs,
    # spaces, underscores and non-ASCII digits, which int() would otherwise accept.
    if type(text) is str and len(text) > 9 and text[-9] == ".":
        digits = text.replace(".", "", 1)
        if digits.isascii() and digits.isdigit():
            value = int(digits)
            if value > MAX_INT64:
                raise ValueError(f"number out of range: {text!r}")
        else:
            value = parse_fixed(text)
    else:
        value = parse_fixed(text)  # type: ignore[arg-type]  # raises ValueError on a non-str
    if value:
        if len(_FIXED_CACHE) >= _FIXED_CACHE_SIZE:
            _FIXED_CACHE.clear()
        _FIXED_CACHE[text] = value
    return value


def _uint(value: object) -> int:
    # Bounded to int64 so that every id and time also fits the MessagePack records.
    if type(value) is not int or not 0 <= value <= MAX_INT64:
        raise ValueError(f"expected a non-negative int64, got {str(value)[:40]!r}")
    return value


def _positive(value: int, name: str) -> int:
    if value == 0:
        raise ValueError(f"{name} 0")
    return value


def _str(value: object) -> str:
    if type(value) is not str:
        raise ValueError(f"expected a string, got {str(value)[:40]!r}")
    return value


def _bool(value: object) -> bool:
    if type(value) is not bool:
        raise ValueError(f"expected a boolean, got {str(value)[:40]!r}")
    return value
