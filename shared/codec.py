"""MessagePack encoding of booksnap records, ZeroMQ topics and RocksDB keys.

This module owns the versioned payload schema (documented in ``docs/storage.md``). Every decoder
validates what it returns: a payload that is not exactly a well-formed record raises
``DecodeError`` and never reaches a book, the database or a client.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import msgpack

from shared.errors import DecodeError
from shared.fixedpoint import MAX_FIXED
from shared.model import SYMBOL_PATTERN, BookSnapshot, Level, LiveBook, Trade

SCHEMA_VERSION = 1

SNAP_PREFIX = b"snap."
BOOK_PREFIX = b"book."

KEY_SEPARATOR = ":"
SECOND_DIGITS = 10  # zero-padded so that byte order is time order until the year 2286

MAX_LEVELS = 5000  # per side; Binance's REST snapshot never has more
MAX_TRADES = 100_000  # per second; far above anything Binance has ever done
MAX_PAYLOAD = 4 * 1024 * 1024  # bytes; anything larger is rejected before unpacking
MAX_INT64 = 2**63 - 1


# --- topics -------------------------------------------------------------------------------------


def snap_topic(symbol: str) -> bytes:
    """Topic of the once-a-second snapshot records of a symbol."""
    return SNAP_PREFIX + symbol.encode("ascii")


def book_topic(symbol: str) -> bytes:
    """Topic of the live (up to ~10 Hz) book of a symbol."""
    return BOOK_PREFIX + symbol.encode("ascii")


def symbol_of_topic(topic: bytes) -> str:
    """The symbol a ``snap.``/``book.`` topic names; DecodeError if the topic is not one."""
    for prefix in (SNAP_PREFIX, BOOK_PREFIX):
        if topic.startswith(prefix):
            return check_symbol_field(topic[len(prefix) :].decode("ascii", "replace"))
    raise DecodeError(f"unknown topic {topic[:40]!r}")


# --- keys ---------------------------------------------------------------------------------------


def snapshot_key(symbol: str, second: int) -> bytes:
    """``{SYMBOL}:{unix_timestamp_sec}``, seconds zero-padded to 10 digits."""
    return f"{symbol}{KEY_SEPARATOR}{second:0{SECOND_DIGITS}d}".encode("ascii")


def symbol_prefix(symbol: str) -> bytes:
    """The prefix every key of a symbol starts with (``BTCUSDT:``)."""
    return f"{symbol}{KEY_SEPARATOR}".encode("ascii")


def parse_key(key: bytes) -> tuple[str, int]:
    """Split a key into (symbol, second); DecodeError if it is not a booksnap key."""
    try:
        text = key.decode("ascii")
        symbol, second = text.split(KEY_SEPARATOR)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DecodeError(f"not a booksnap key: {key[:40]!r}") from exc
    if len(second) != SECOND_DIGITS or not second.isdigit():
        raise DecodeError(f"not a booksnap key: {key[:40]!r}")
    return check_symbol_field(symbol), int(second)


# --- records ------------------------------------------------------------------------------------


def encode_snapshot(snap: BookSnapshot, *, with_trades: bool = True) -> bytes:
    """Pack a snapshot (stored ``with_trades=False``: trades have a column family of their own)."""
    record: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "sym": snap.symbol,
        "sec": snap.second,
        "ses": snap.session,
        "seq": snap.seq,
        "uid": snap.update_id,
        "E": snap.ts_event,
        "recv": snap.ts_recv,
        "b": [list(level) for level in snap.bids],
        "a": [list(level) for level in snap.asks],
    }
    if with_trades:
        record["tr"] = _pack_trades(snap.trades)
    return msgpack.packb(record, use_bin_type=True)


def decode_snapshot(data: bytes, *, validate: bool = True) -> BookSnapshot:
    """Unpack and validate a snapshot; DecodeError on anything that is not exactly one.

    ``validate=False`` skips the order and crossing checks, for data this process already
    validated before storing it (the query process reading its own database).
    """
    record = unpack_map(data)
    try:
        snap = BookSnapshot(
            symbol=check_symbol_field(record["sym"]),
            second=check_uint_field(record["sec"], "sec"),
            session=check_uint_field(record["ses"], "ses"),
            seq=check_uint_field(record["seq"], "seq"),
            update_id=check_uint_field(record["uid"], "uid"),
            ts_event=check_uint_field(record["E"], "E"),
            ts_recv=check_uint_field(record["recv"], "recv"),
            bids=_levels(record["b"], "b"),
            asks=_levels(record["a"], "a"),
            trades=_unpack_trades(record.get("tr", [])),
        )
    except KeyError as exc:
        raise DecodeError(f"snapshot lacks field {exc.args[0]!r}") from exc
    if validate:
        check_book(snap.bids, snap.asks)
    return snap


def encode_live(book: LiveBook) -> bytes:
    """Pack a live book for the ``book.<SYMBOL>`` topic."""
    return msgpack.packb(
        {
            "v": SCHEMA_VERSION,
            "sym": book.symbol,
            "ses": book.session,
            "seq": book.seq,
            "uid": book.update_id,
            "E": book.ts_event,
            "recv": book.ts_recv,
            "b": [list(level) for level in book.bids],
            "a": [list(level) for level in book.asks],
        },
        use_bin_type=True,
    )


def decode_live(data: bytes) -> LiveBook:
    """Unpack and validate a live book; DecodeError on anything else."""
    record = unpack_map(data)
    try:
        book = LiveBook(
            symbol=check_symbol_field(record["sym"]),
            session=check_uint_field(record["ses"], "ses"),
            seq=check_uint_field(record["seq"], "seq"),
            update_id=check_uint_field(record["uid"], "uid"),
            ts_event=check_uint_field(record["E"], "E"),
            ts_recv=check_uint_field(record["recv"], "recv"),
            bids=_levels(record["b"], "b"),
            asks=_levels(record["a"], "a"),
        )
    except KeyError as exc:
        raise DecodeError(f"live book lacks field {exc.args[0]!r}") from exc
    check_book(book.bids, book.asks)
    return book


def encode_trades(symbol: str, second: int, trades: Sequence[Trade]) -> bytes:
    """Pack the trades of one symbol-second, as the writer stores them."""
    return msgpack.packb(
        {"v": SCHEMA_VERSION, "sym": symbol, "sec": second, "tr": _pack_trades(trades)},
        use_bin_type=True,
    )


def decode_trades(data: bytes) -> tuple[str, int, tuple[Trade, ...]]:
    """Unpack stored trades into (symbol, second, trades)."""
    record = unpack_map(data)
    try:
        return (
            check_symbol_field(record["sym"]),
            check_uint_field(record["sec"], "sec"),
            _unpack_trades(record["tr"]),
        )
    except KeyError as exc:
        raise DecodeError(f"trades record lacks field {exc.args[0]!r}") from exc


def check_book(bids: Sequence[Level], asks: Sequence[Level]) -> None:
    """DecodeError unless bids fall strictly, asks rise strictly and the book is not crossed."""
    for side, levels, descending in (("bids", bids, True), ("asks", asks, False)):
        for (p1, _), (p2, _) in itertools.pairwise(levels):
            if (p2 >= p1) if descending else (p2 <= p1):
                raise DecodeError(f"{side} not sorted best first at price {p2}")
    if bids and asks and bids[0][0] >= asks[0][0]:
        raise DecodeError(f"crossed book: best bid {bids[0][0]} >= best ask {asks[0][0]}")


# --- helpers ------------------------------------------------------------------------------------


def _pack_trades(trades: Iterable[Trade]) -> list[list[int | bool]]:
    return [[t.agg_id, t.price, t.qty, t.ts_trade, t.buyer_maker] for t in trades]


def unpack_map(data: bytes) -> dict[str, Any]:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError(f"expected bytes, got {type(data).__name__}")
    if len(data) > MAX_PAYLOAD:
        raise DecodeError(f"payload of {len(data)} bytes exceeds {MAX_PAYLOAD}")
    try:
        record = msgpack.unpackb(data, raw=False, strict_map_key=True, max_bin_len=0, max_ext_len=0)
    except Exception as exc:  # msgpack raises several unrelated types on corrupt input
        raise DecodeError(f"not MessagePack: {exc}") from exc
    if not isinstance(record, dict):
        raise DecodeError(f"expected a map, got {type(record).__name__}")
    version = record.get("v")
    if version != SCHEMA_VERSION:
        raise DecodeError(f"unsupported schema version {version!r}")
    return record


def check_symbol_field(value: object) -> str:
    if not isinstance(value, str) or not SYMBOL_PATTERN.match(value):
        raise DecodeError(f"invalid symbol {str(value)[:40]!r}")
    return value


def check_uint_field(value: object, name: str) -> int:
    if type(value) is not int or not 0 <= value <= MAX_INT64:
        raise DecodeError(f"field {name!r} must be an unsigned int64, got {str(value)[:40]!r}")
    return value


def _levels(value: object, name: str) -> tuple[Level, ...]:
    if not isinstance(value, list) or len(value) > MAX_LEVELS:
        raise DecodeError(f"field {name!r} must be a list of at most {MAX_LEVELS} levels")
    levels: list[Level] = []
    for level in value:
        if not isinstance(level, list) or len(level) != 2:
            raise DecodeError(f"field {name!r} holds a level that is not [price, qty]")
        price, qty = level
        if type(price) is not int or type(qty) is not int:
            raise DecodeError(f"field {name!r} holds a non-integer price or quantity")
        if not (0 < price <= MAX_FIXED and 0 < qty <= MAX_FIXED):
            raise DecodeError(f"field {name!r} holds an out-of-range level {price}, {qty}")
        levels.append((price, qty))
    return tuple(levels)


def _unpack_trades(value: object) -> tuple[Trade, ...]:
    if not isinstance(value, list) or len(value) > MAX_TRADES:
        raise DecodeError(f"field 'tr' must be a list of at most {MAX_TRADES} trades")
    trades: list[Trade] = []
    for item in value:
        if not isinstance(item, list) or len(item) != 5:
            raise DecodeError("field 'tr' holds a trade that is not [id, price, qty, time, m]")
        agg_id, price, qty, ts_trade, buyer_maker = item
        if type(buyer_maker) is not bool:
            raise DecodeError("field 'tr' holds a trade whose maker flag is not a bool")
        if type(price) is not int or type(qty) is not int or not (0 < price <= MAX_FIXED):
            raise DecodeError("field 'tr' holds a trade with an invalid price")
        if not 0 < qty <= MAX_FIXED:
            raise DecodeError("field 'tr' holds a trade with an invalid quantity")
        trades.append(
            Trade(
                agg_id=check_uint_field(agg_id, "tr.id"),
                price=price,
                qty=qty,
                ts_trade=check_uint_field(ts_trade, "tr.T"),
                buyer_maker=buyer_maker,
            )
        )
    return tuple(trades)
