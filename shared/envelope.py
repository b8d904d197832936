"""Stored records of a run taken apart at once: their scalar fields as columns, their arrays as
byte ranges for ``shared.unpack``.

A stored value is a MessagePack map in its schema's field order, as msgspec writes it. The
layout (the map header and each field's key, in order) is taken from msgspec's own encoding of
the schema in ``shared.model``, not written out here, and checked against a probe record when it
is built. ``locate`` then reads every record of a run field by field with ``shared.scan``: the
key, then the value (the symbol and the schema version compared as bytes, ints read and range
checked, an array's extent found by walking its elements). A run where any record does not read
this way (another field order or encoding, a corrupt value) is not located: the caller decodes
that run with the schema (``shared.codec``), which reads it or raises its ``DecodeError``.

Pure: bytes in, arrays out, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import msgspec
import numpy as np

from shared.codec import encode
from shared.model import MAX_LEVELS, MAX_TRADES, BookSnapshot, SecondTrades, Trade
from shared.scan import Scan
from shared.walk import AMOUNT, BOOL, UINT, headers, walk

SYMBOL, INT, ARRAY, VERSION = "symbol", "uint", "array", "version"  # field roles
LEVEL_KINDS = (AMOUNT, AMOUNT)  # a level: [price, qty]
TRADE_KINDS = (UINT, AMOUNT, AMOUNT, UINT, BOOL)  # a trade: [agg_id, price, qty, T, m]
_ARRAYS = {"bids": MAX_LEVELS, "asks": MAX_LEVELS, "trades": MAX_TRADES}  # field → most elements


@dataclass(frozen=True)
class Field:
    name: str
    key: bytes  # the field's MessagePack key
    role: str  # SYMBOL, INT, ARRAY or VERSION
    value: bytes = b""  # SYMBOL/VERSION: the exact bytes the value must be


@dataclass(frozen=True)
class Layout:
    """How msgspec writes one record type of one symbol: a map header, then key/value pairs."""

    header: bytes
    fields: tuple[Field, ...]
    kinds: dict[str, tuple[int, ...]]  # per ARRAY field: the kinds of its elements' fields


def _layout(record: msgspec.Struct, kinds: dict[str, tuple[int, ...]]) -> Layout:
    """The layout of ``record``'s type, checked: rebuilding the probe from it gives its bytes."""
    fields = []
    for info in msgspec.structs.fields(type(record)):
        value = getattr(record, info.name)
        if info.name == "symbol":
            role, exact = SYMBOL, encode_value(value)
        elif info.name == "version":
            role, exact = VERSION, encode_value(value)
        elif info.name in _ARRAYS:
            role, exact = ARRAY, b""
        else:
            role, exact = INT, b""
        fields.append(Field(info.name, encode_value(info.encode_name), role, exact))
    whole = encode(record)
    header = whole[:1]
    rebuilt = header + b"".join(
        f.key + (f.value or encode_value(getattr(record, f.name))) for f in fields
    )
    if rebuilt != whole:
        raise ImportError(f"msgspec no longer writes {type(record).__name__} as expected")
    return Layout(header, tuple(fields), kinds)


def encode_value(value: object) -> bytes:
    """MessagePack of a plain value (a key, the symbol, the version, a probe's fields)."""
    return msgspec.msgpack.encode(value)


@lru_cache(maxsize=256)
def book_layout(symbol: str, level_kinds: tuple[int, ...]) -> Layout:
    probe = BookSnapshot(symbol, 2**31, 2**60, 7, 2**40, 2**40, 2**40, ((2, 1),), ((3, 1),))
    return _layout(probe, {"bids": level_kinds, "asks": level_kinds})


@lru_cache(maxsize=256)
def trades_layout(symbol: str, trade_kinds: tuple[int, ...]) -> Layout:
    probe = SecondTrades(symbol, 2**31, (Trade(1, 2, 3, 4, True),))
    return _layout(probe, {"trades": trade_kinds})


@dataclass(frozen=True)
class Located:
    """A run's records taken apart: ``scan`` holds their bytes joined."""

    scan: Scan
    scalars: dict[str, np.ndarray]  # per INT field: one int64 per record
    spans: dict[str, tuple[np.ndarray, np.ndarray]]  # per ARRAY field: (starts, ends) in scan


def locate(layout: Layout, values: Sequence[bytes]) -> Located | None:
    """Every record of ``values`` read by ``layout``; None if any record does not read so."""
    located, ok = take_apart(layout, values)
    return located if ok.all() else None


def take_apart(
    layout: Layout,
    values: Sequence[bytes],
    symbols: Sequence[bytes] | None = None,
) -> tuple[Located, np.ndarray]:
    """The records of ``values`` read by ``layout``, and whether each one reads so.

    ``symbols``: the encoded symbol each record must carry (``encode_value(symbol)``), in place
    of the layout's one symbol (a run of many symbols, as the writer receives them). A record
    that does not read has meaningless columns and spans; the others are exact.
    """
    scan = Scan(values)
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    ends = np.cumsum(lengths)
    at = ends - lengths
    ok = scan.equals(at, layout.header)
    at = at + len(layout.header)
    scalars: dict[str, np.ndarray] = {}
    spans: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    fields = layout.fields
    for index, field in enumerate(fields):
        ok &= scan.equals(at, field.key)
        at = at + len(field.key)
        if field.role == SYMBOL and symbols is not None:
            same, width = scan.equals_each(at, symbols)
            ok &= same
            at = at + width
        elif field.role in (SYMBOL, VERSION):
            ok &= scan.equals(at, field.value)
            at = at + len(field.value)
        elif field.role == INT:
            scalars[field.name], at = scan.uint(at)
            ok &= scalars[field.name] >= 0
        else:
            after = _array_end(scan, layout, fields[index + 1 :], field, at=at, ends=ends)
            ok &= after >= at
            spans[field.name] = (at, np.where(after >= 0, after, at))
            at = spans[field.name][1]
        ok &= at <= ends  # never read on past a record: the padding covers one field at most
        at = np.minimum(at, ends)
    ok &= at == ends
    return Located(scan, scalars, spans), ok


def _array_end(
    scan: Scan,
    layout: Layout,
    later: Sequence[Field],
    field: Field,
    *,
    at: np.ndarray,
    ends: np.ndarray,
) -> np.ndarray:
    """Where the array ``field`` starting at ``at`` ends; -1 where it cannot be read.

    When only fixed bytes follow it (the version), that is the record's end less those bytes;
    otherwise its elements are walked (``shared.walk``, which also checks their values).
    """
    if all(f.role in (SYMBOL, VERSION) for f in later):
        return ends - sum(len(f.key) + len(f.value) for f in later)
    kinds = layout.kinds[field.name]
    count, first = headers(scan.data, at, ends, len(kinds), _ARRAYS[field.name])
    return walk(scan.data, first, ends, count, count, np.asarray(kinds, dtype=np.int64), _NO_ROWS)


_NO_ROWS = np.empty((0, 1), dtype=np.int64)  # ``walk`` only finds the arrays' ends
