"""The writer's fast path of ``shared.codec``: validate payloads without building objects.

``decode_snapshot_for_store`` accepts exactly what ``codec.decode_snapshot`` accepts and returns
the two values the writer stores, byte for byte as ``encode_snapshot(snap, with_trades=False)``
and ``encode_trades`` would give them, plus the trades as columns. Three tiers, each accepting a
subset of the next: msgspec decodes and type/range-checks the wire map into typed Structs in C
(the common case, a few microseconds); anything it refuses (an unknown field, ``"v": true``, a
bad value) goes to the column checks below (C-level ``map``/``set``/``min``/``max``); anything
those refuse goes to ``decode_snapshot``, which raises the precise DecodeError.
"""

from __future__ import annotations

import itertools
import threading
from operator import gt, itemgetter, lt
from typing import Annotated, Any, Literal, NamedTuple

import msgpack
import msgspec
from msgspec import Meta, Struct

from shared.codec import (
    MAX_INT64,
    MAX_LEVELS,
    MAX_PAYLOAD,
    MAX_TRADES,
    SCHEMA_VERSION,
    decode_snapshot,
    decode_trades,
    unpack_map,
)
from shared.errors import DecodeError
from shared.fixedpoint import MAX_FIXED
from shared.model import SYMBOL_PATTERN

# --- the msgspec Structs: wire keys as field names, codec's map order as field order -------
# Encoding StoredBook/StoredTrades gives the bytes of encode_snapshot(snap, with_trades=False) /
# encode_trades (msgspec and msgpack-python both pick the smallest int/str encodings; tested).
# WireSnapshot accepts a subset of what decode_snapshot accepts: it refuses unknown fields and
# anything but "v": 1 (the codec takes v == 1, e.g. true or 1.0); those go to the slower tiers.
# gc=False: these never take part in a reference cycle, so the cyclic GC need not track them.
# Same regex as validate_symbol; msgspec uses ``re.search``, equal to ``.match`` with ``^``.
Symbol = Annotated[str, Meta(pattern=SYMBOL_PATTERN.pattern)]
UInt64 = Annotated[int, Meta(ge=0, le=MAX_INT64)]  # msgspec's int never takes a bool or float
Amount = Annotated[int, Meta(gt=0, le=MAX_FIXED)]  # a scaled price or quantity
Levels = Annotated[list[tuple[Amount, Amount]], Meta(max_length=MAX_LEVELS)]
WireTrade = tuple[UInt64, Amount, Amount, UInt64, bool]  # [agg id, price, qty, time, maker]
Trades = Annotated[list[WireTrade], Meta(max_length=MAX_TRADES)]


class WireSnapshot(Struct, forbid_unknown_fields=True, gc=False):
    """A ``snap.`` payload as sent (``tr`` may be missing, as in a stored snapshot)."""

    v: Literal[1]
    sym: Symbol
    sec: UInt64
    ses: UInt64
    seq: UInt64
    uid: UInt64
    E: UInt64
    recv: UInt64
    b: Levels
    a: Levels
    tr: Trades = []


class StoredBook(Struct, gc=False):
    """The ``snapshots`` column family value: the snapshot without its trades."""

    v: int
    sym: str
    sec: int
    ses: int
    seq: int
    uid: int
    E: int
    recv: int
    b: list[tuple[int, int]]
    a: list[tuple[int, int]]


class StoredTrades(Struct, gc=False):
    """The ``trades`` column family value."""

    v: int
    sym: str
    sec: int
    tr: list[WireTrade]


class StorableSnapshot(NamedTuple):
    """A validated snapshot payload, already encoded exactly as the writer stores it.

    ``snapshot`` equals ``encode_snapshot(snap, with_trades=False)`` and ``trades`` equals
    ``encode_trades(...)`` of the decoded snapshot, byte for byte; the trade columns (prices,
    quantities, maker flags, in trade order) are what the volume aggregates are built from.
    """

    symbol: str
    second: int
    session: int
    seq: int
    snapshot: bytes
    trades: bytes
    prices: tuple[int, ...]
    qtys: tuple[int, ...]
    buyer_maker: tuple[bool, ...]


_HEADER = itemgetter("sec", "ses", "seq", "uid", "E", "recv")  # KeyError if one is missing
_INT = {int}
_BOOL = {bool}
_FIRST = itemgetter(0)
_DECODER = msgspec.msgpack.Decoder(WireSnapshot)
_ENCODER = msgspec.msgpack.Encoder()  # thread-safe; same bytes as msgpack's packb (tested)
_LOCAL = threading.local()  # one reusable Packer per thread (packb builds a new one per call)


def _packer() -> msgpack.Packer:
    packer: msgpack.Packer | None = getattr(_LOCAL, "packer", None)
    if packer is None:
        packer = _LOCAL.packer = msgpack.Packer(use_bin_type=True)
    return packer


def decode_snapshot_for_store(data: bytes) -> StorableSnapshot:
    """Validate a snapshot payload exactly as ``decode_snapshot`` does, without building objects.

    Why: the writer validates tens of thousands of records a second and needs bytes, not
    dataclasses. msgspec takes the plain well-formed case; what it refuses goes to the column
    checks, and what those refuse to ``decode_snapshot``, which raises the precise DecodeError
    (so error messages are the same as on the slow path). Accepts exactly what ``decode_snapshot``
    accepts (tested against it).
    """
    try:
        return _typed(data)
    except (msgspec.ValidationError, msgspec.DecodeError, TypeError, ValueError):
        pass  # not the plain well-formed case: the column checks decide (same acceptance)
    record = unpack_map(data)
    try:
        storable = _storable(record)
    except (KeyError, TypeError, ValueError):
        storable = None
    if storable is None:
        decode_snapshot(data)  # raises the precise DecodeError
        raise DecodeError("snapshot failed validation")  # unreachable unless the paths disagree
    return storable


def decode_trade_columns(
    data: bytes,
) -> tuple[str, int, tuple[int, ...], tuple[int, ...], tuple[bool, ...]]:
    """``decode_trades`` as (symbol, second, prices, qtys, maker flags), without Trade objects.

    Validates alike; anything the column checks refuse goes to ``decode_trades`` for its error.
    """
    record = unpack_map(data)
    try:
        symbol, second, trades = record["sym"], record["sec"], record["tr"]
        columns = _trade_columns(trades)
        valid = (
            columns is not None
            and type(symbol) is str
            and SYMBOL_PATTERN.match(symbol) is not None
            and type(second) is int
            and 0 <= second <= MAX_INT64
        )
    except (KeyError, TypeError, ValueError):
        valid, columns = False, None
    if not valid or columns is None:
        decode_trades(data)  # raises the precise DecodeError
        raise DecodeError("trades record failed validation")
    return symbol, second, *columns


def _typed(data: bytes) -> StorableSnapshot:
    """The msgspec tier: typed decode, then order/crossing checks over C-built price lists."""
    if len(data) > MAX_PAYLOAD:
        raise ValueError("oversize")
    wire = _DECODER.decode(data)
    bids, asks = wire.b, wire.a
    # Strictly ordered best first, each price against the next one (in C).
    bid_prices = list(map(_FIRST, bids))
    if not all(map(gt, bid_prices, bid_prices[1:])):
        raise ValueError("bids not sorted")
    ask_prices = list(map(_FIRST, asks))
    if not all(map(lt, ask_prices, ask_prices[1:])):
        raise ValueError("asks not sorted")
    if bid_prices and ask_prices and bid_prices[0] >= ask_prices[0]:
        raise ValueError("crossed")
    symbol, second, trades = wire.sym, wire.sec, wire.tr
    encode = _ENCODER.encode
    snapshot = encode(
        StoredBook(
            SCHEMA_VERSION,
            symbol,
            second,
            wire.ses,
            wire.seq,
            wire.uid,
            wire.E,
            wire.recv,
            bids,
            asks,
        )
    )
    stored_trades = encode(StoredTrades(SCHEMA_VERSION, symbol, second, trades))
    if trades:
        _, prices, qtys, _, makers = zip(*trades, strict=True)
    else:
        prices = qtys = makers = ()
    return StorableSnapshot(
        symbol, second, wire.ses, wire.seq, snapshot, stored_trades, prices, qtys, makers
    )


def _storable(record: dict[str, Any]) -> StorableSnapshot | None:
    symbol = record["sym"]
    if type(symbol) is not str or not SYMBOL_PATTERN.match(symbol):
        return None
    header = _HEADER(record)
    if set(map(type, header)) != _INT or min(header) < 0 or max(header) > MAX_INT64:
        return None
    bids, asks = record["b"], record["a"]
    if not _book_ok(bids, asks):
        return None
    trades = record.get("tr", [])
    columns = _trade_columns(trades)
    if columns is None:
        return None
    second, session, seq, update_id, ts_event, ts_recv = header
    pack = _packer().pack
    snapshot = pack(
        {
            "v": SCHEMA_VERSION,
            "sym": symbol,
            "sec": second,
            "ses": session,
            "seq": seq,
            "uid": update_id,
            "E": ts_event,
            "recv": ts_recv,
            "b": bids,
            "a": asks,
        }
    )
    stored_trades = pack({"v": SCHEMA_VERSION, "sym": symbol, "sec": second, "tr": trades})
    prices, qtys, makers = columns
    return StorableSnapshot(
        symbol, second, session, seq, snapshot, stored_trades, prices, qtys, makers
    )


def _book_ok(bids: object, asks: object) -> bool:
    """Both sides are lists of in-range [price, qty] ints, strictly ordered, not crossed.

    Whole-column checks: an item of length 2 that is not a [price, qty] list (a 2-character
    string, a 2-key map) yields non-int items and fails the type check.
    """
    if type(bids) is not list or type(asks) is not list:
        return False
    if len(bids) > MAX_LEVELS or len(asks) > MAX_LEVELS:
        return False
    if not (bids or asks):
        return True
    if set(map(len, bids)) | set(map(len, asks)) != {2}:
        return False
    flat = [*itertools.chain.from_iterable(bids), *itertools.chain.from_iterable(asks)]
    if set(map(type, flat)) != _INT or min(flat) <= 0 or max(flat) > MAX_FIXED:
        return False
    split = 2 * len(bids)
    bid_prices, ask_prices = flat[0:split:2], flat[split::2]
    if not all(map(gt, bid_prices, itertools.islice(bid_prices, 1, None))):
        return False
    if not all(map(lt, ask_prices, itertools.islice(ask_prices, 1, None))):
        return False
    return not (bid_prices and ask_prices and bid_prices[0] >= ask_prices[0])


def _trade_columns(
    trades: object,
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[bool, ...]] | None:
    """(prices, qtys, maker flags) of valid ``[id, price, qty, time, m]`` trades, else None."""
    if type(trades) is not list or len(trades) > MAX_TRADES:
        return None
    if not trades:
        return (), (), ()
    if set(map(len, trades)) != {5}:
        return None
    ids, prices, qtys, times, makers = zip(*trades, strict=True)
    if set(map(type, makers)) != _BOOL:
        return None
    amounts = prices + qtys
    stamps = ids + times
    if set(map(type, amounts + stamps)) != _INT:
        return None
    if min(amounts) < 1 or max(amounts) > MAX_FIXED or min(stamps) < 0 or max(stamps) > MAX_INT64:
        return None
    return prices, qtys, makers
