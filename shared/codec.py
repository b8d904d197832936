"""MessagePack encoding of booksnap's records, the ZeroMQ messages that carry them, and keys.

The schemas are the Structs of ``shared.model``; this module decodes bytes into them (typed
decoding *is* the validation of types, ranges and sizes) and adds the checks a type cannot
express: a book's sides are strictly ordered best first and not crossed, and the three frames of
a second agree on symbol and second. A payload that is not exactly a valid record raises
``DecodeError`` and never reaches a book, the database or a client.

The snapshot feed (``snap.<SYMBOL>``, feed version 2) carries one second as three frames,
``[topic, book, trades]``: exactly the two values the writer stores, so the writer validates by
decoding and stores the bytes it received. ``decode_second`` is the one-call decoder for
subscribers.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from operator import attrgetter, gt, itemgetter, lt
from typing import Any, TypeVar

import msgspec

from shared.errors import DecodeError
from shared.model import (
    SYMBOL_PATTERN,
    BookSnapshot,
    Level,
    Levels,
    LiveBook,
    SecondTrades,
    Trade,
    Trades,
)

FEED_VERSION = 2  # 1: [topic, book-with-trades] (booksnap 0.1); 2: [topic, book, trades]

SNAP_PREFIX = b"snap."
BOOK_PREFIX = b"book."
MAX_TOPIC = len(SNAP_PREFIX) + 20  # a prefix and the longest valid symbol

KEY_SEPARATOR = ":"
SECOND_DIGITS = 10  # zero-padded so that byte order is time order until the year 2286

# Bytes of one frame: 5,000 levels a side (~190 KB) and 25,000 trades (~950 KB) fit. Sockets set
# it as their ZMQ_MAXMSGSIZE, so a larger frame drops the sender before it is buffered.
MAX_PAYLOAD = 1024 * 1024

Decoded = TypeVar("Decoded")

_ENCODER = msgspec.msgpack.Encoder()  # thread-safe
_BOOK = msgspec.msgpack.Decoder(BookSnapshot)
_TRADES = msgspec.msgpack.Decoder(SecondTrades)
_LIVE = msgspec.msgpack.Decoder(LiveBook)
# One side or one second's trades (``decode_level_arrays``/``decode_trade_arrays``; the writer's
# columns decode them array by array to mark the one that fails).
LEVELS_DECODER = msgspec.msgpack.Decoder(Levels)
TRADES_DECODER = msgspec.msgpack.Decoder(Trades)
_PRICE = itemgetter(0)
_SYMBOL = attrgetter("symbol")


# --- topics -------------------------------------------------------------------------------------


def snap_topic(symbol: str) -> bytes:
    """Topic of the once-a-second records of a symbol."""
    return SNAP_PREFIX + symbol.encode("ascii")


def book_topic(symbol: str) -> bytes:
    """Topic of the live (up to ~10 Hz) book of a symbol."""
    return BOOK_PREFIX + symbol.encode("ascii")


def symbol_of_topic(topic: bytes) -> str:
    """The symbol a ``snap.``/``book.`` topic names; DecodeError if the topic is not one."""
    if len(topic) <= MAX_TOPIC:
        for prefix in (SNAP_PREFIX, BOOK_PREFIX):
            if topic.startswith(prefix):
                return check_symbol(topic[len(prefix) :].decode("ascii", "replace"))
    raise DecodeError(f"unknown topic {topic[:40]!r}")


# --- keys ---------------------------------------------------------------------------------------


def record_key(symbol: str, second: int) -> bytes:
    """``{SYMBOL}:{unix_timestamp_sec}``, seconds zero-padded to 10 digits (every family's key)."""
    return f"{symbol}{KEY_SEPARATOR}{second:0{SECOND_DIGITS}d}".encode("ascii")


def symbol_prefix(symbol: str) -> bytes:
    """The prefix every key of a symbol starts with (``BTCUSDT:``)."""
    return f"{symbol}{KEY_SEPARATOR}".encode("ascii")


def parse_key(key: bytes) -> tuple[str, int]:
    """Split a key into (symbol, second); DecodeError if it is not a booksnap key."""
    try:
        symbol, second = key.decode("ascii").split(KEY_SEPARATOR)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DecodeError(f"not a booksnap key: {key[:40]!r}") from exc
    if len(second) != SECOND_DIGITS or not second.isdigit():
        raise DecodeError(f"not a booksnap key: {key[:40]!r}")
    return check_symbol(symbol), int(second)


def check_symbol(value: object) -> str:
    """``value`` if it is a valid symbol string; DecodeError otherwise."""
    if not isinstance(value, str) or not SYMBOL_PATTERN.match(value):
        raise DecodeError(f"invalid symbol {str(value)[:40]!r}")
    return value


# --- records ------------------------------------------------------------------------------------


def encode(record: msgspec.Struct) -> bytes:
    """MessagePack of any record of ``shared.model`` (wire names, declaration order)."""
    return _ENCODER.encode(record)


def decode(data: bytes, decoder: msgspec.msgpack.Decoder[Decoded], what: str) -> Decoded:
    """Typed decode of one record of at most MAX_PAYLOAD bytes; DecodeError otherwise."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError(f"expected bytes, got {type(data).__name__}")
    if len(data) > MAX_PAYLOAD:
        raise DecodeError(f"{what} of {len(data)} bytes exceeds {MAX_PAYLOAD}")
    try:
        return decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise DecodeError(f"invalid {what}: {str(exc)[:200]}") from exc


def decode_book(data: bytes, *, check: bool = True) -> BookSnapshot:
    """A ``snapshots`` value / the book frame of a second.

    ``check=False`` skips the order and crossing checks, for books this system already checked
    before storing them (the query process reading its own database).
    """
    book = decode(data, _BOOK, "book record")
    if check:
        check_book(book.bids, book.asks)
    return book


def with_raw(record: type[msgspec.Struct], *names: str) -> type[msgspec.Struct]:
    """``record`` with the fields ``names`` left undecoded as ``msgspec.Raw`` (their bytes).

    Same wire names, defaults and checks for every other field: a reader that takes the big
    fields apart itself (``booksnap.flat``) decodes the rest of the one schema unchanged.
    """
    fields = [
        (
            info.name,
            msgspec.Raw if info.name in names else info.type,
            msgspec.field(name=info.encode_name, default=info.default),
        )
        for info in msgspec.structs.fields(record)
    ]
    config = record.__struct_config__
    return msgspec.defstruct(
        f"{record.__name__}Raw",
        fields,
        frozen=config.frozen,
        forbid_unknown_fields=config.forbid_unknown_fields,
        gc=False,  # nothing in a Raw or a scalar can form a cycle
    )


BookSnapshotRaw = with_raw(BookSnapshot, "bids", "asks")
SecondTradesRaw = with_raw(SecondTrades, "trades")
_BOOK_RAW = msgspec.msgpack.Decoder(BookSnapshotRaw)
_TRADES_RAW = msgspec.msgpack.Decoder(SecondTradesRaw)


def decode_books_raw(symbol: str, values: Sequence[bytes]) -> list[Any]:
    """Stored ``snapshots`` values of ``symbol``, their sides left as ``msgspec.Raw``."""
    return _of_symbol(symbol, _decode_each(values, _BOOK_RAW, "book record"), "book record")


def decode_trades_raw(symbol: str, values: Sequence[bytes]) -> list[Any]:
    """Stored ``trades`` values of ``symbol``, their trades left as ``msgspec.Raw``."""
    return _of_symbol(symbol, _decode_each(values, _TRADES_RAW, "trades record"), "trades record")


def _of_symbol(symbol: str, records: list[Any], what: str) -> list[Any]:
    """``records`` if every one is of ``symbol`` (the key they are stored under)."""
    symbols = list(map(_SYMBOL, records))
    if symbols.count(symbol) != len(symbols):  # C-level, no bytecode per record
        wrong = next(other for other in symbols if other != symbol)
        raise DecodeError(f"invalid {what}: symbol {wrong[:40]!r} stored under {symbol}")
    return records


def _decode_each(
    values: Sequence[bytes], decoder: msgspec.msgpack.Decoder[Decoded], what: str
) -> list[Decoded]:
    """``decode`` of many values read from the database (bytes, each stored by the writer)."""
    try:
        return list(map(decoder.decode, values))
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise DecodeError(f"invalid {what}: {str(exc)[:200]}") from exc


def decode_level_arrays(arrays: Sequence[bytes]) -> list[tuple[Level, ...]]:
    """Book sides (each one MessagePack array of levels), typed and range-checked, not ordered.

    Each array is decoded on its own, so one array's bytes are never read as part of another's.
    """
    return _decode_each(arrays, LEVELS_DECODER, "book record")


def decode_trade_arrays(arrays: Sequence[bytes]) -> list[tuple[Trade, ...]]:
    """Trades arrays of trades records (each one MessagePack array), typed and range-checked."""
    return _decode_each(arrays, TRADES_DECODER, "trades record")


def array_header(count: int) -> bytes:
    """The MessagePack header of an array of ``count`` elements."""
    if count < 16:
        return bytes([0x90 | count])
    if count < 2**16:
        return b"\xdc" + count.to_bytes(2, "big")
    return b"\xdd" + count.to_bytes(4, "big")


def decode_trades(data: bytes) -> SecondTrades:
    """A ``trades`` value / the trades frame of a second."""
    return decode(data, _TRADES, "trades record")


def decode_live(data: bytes) -> LiveBook:
    """A ``book.<SYMBOL>`` payload, checked like a stored book."""
    book = decode(data, _LIVE, "live book")
    check_book(book.bids, book.asks)
    return book


def check_book(bids: Sequence[Level], asks: Sequence[Level]) -> None:
    """DecodeError unless bids fall strictly, asks rise strictly and the book is not crossed."""
    # Whole-column comparisons in C (the writer's hot path); the loop below only names the fault.
    bid_prices, ask_prices = list(map(_PRICE, bids)), list(map(_PRICE, asks))
    if (
        all(map(gt, bid_prices, bid_prices[1:]))
        and all(map(lt, ask_prices, ask_prices[1:]))
        and not (bid_prices and ask_prices and bid_prices[0] >= ask_prices[0])
    ):
        return
    for side, prices, later_ok in (("bids", bid_prices, gt), ("asks", ask_prices, lt)):
        for p1, p2 in itertools.pairwise(prices):
            if not later_ok(p1, p2):
                raise DecodeError(f"{side} not sorted best first at price {p2}")
    raise DecodeError(f"crossed book: best bid {bid_prices[0]} >= best ask {ask_prices[0]}")


# --- the snapshot feed: one second as [topic, book, trades] --------------------------------------


def encode_second(book: BookSnapshot, trades: SecondTrades) -> list[bytes]:
    """The three frames of one second on the ``snap.`` feed."""
    return [snap_topic(book.symbol), encode(book), encode(trades)]


def check_second(book: BookSnapshot, trades: SecondTrades, symbol: str | None = None) -> None:
    """DecodeError unless book, trades (and a topic's ``symbol``) name the same symbol-second."""
    if book.symbol != trades.symbol or book.second != trades.second:
        raise DecodeError(
            f"book of {book.symbol} {book.second} with trades of {trades.symbol} {trades.second}"
        )
    if symbol is not None and book.symbol != symbol:
        raise DecodeError(f"topic {symbol} carries a record of {book.symbol}")


def decode_second(frames: Sequence[bytes]) -> tuple[BookSnapshot, SecondTrades]:
    """Validate one ``snap.<SYMBOL>`` message ``[topic, book, trades]`` (for subscribers)."""
    if len(frames) != 3:
        raise DecodeError(f"expected 3 frames [topic, book, trades], got {len(frames)}")
    topic, book_bytes, trades_bytes = frames
    if not topic.startswith(SNAP_PREFIX):
        raise DecodeError(f"not a snap.<SYMBOL> topic: {topic[:40]!r}")
    symbol = symbol_of_topic(topic)
    book, trades = decode_book(book_bytes), decode_trades(trades_bytes)
    check_second(book, trades, symbol)
    return book, trades
