"""The backfill channel: how a writer gets back the seconds it missed from a collector.

The writer binds a ROUTER on ``BOOKSNAP_BACKFILL_ENDPOINT``; every collector connects a DEALER
whose routing id is its symbol (ASCII). Messages are multipart ``[kind, msgpack payload]``:

- collector → writer ``[b"hello", {"sym", "ses", "seq", "first", "last"}]`` on connect and
  every few seconds: who it is and which seconds (``first``..``last``) its buffer holds.
- writer → collector ``[b"fetch", {"sym", "from", "to"}]``: send the records of these seconds.
- collector → writer ``[b"record", <encode_snapshot bytes>]`` once per buffered second in range,
  then ``[b"done", {"sym", "from", "to", "count"}]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgpack

from shared.codec import SCHEMA_VERSION, check_symbol_field, check_uint_field, unpack_map
from shared.errors import DecodeError

HELLO = b"hello"
FETCH = b"fetch"
RECORD = b"record"
DONE = b"done"

MAX_FETCH_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Hello:
    symbol: str
    session: int
    seq: int  # the last sequence number published
    first: int  # oldest buffered second (0 when the buffer is empty)
    last: int  # newest buffered second (0 when the buffer is empty)


@dataclass(frozen=True, slots=True)
class Fetch:
    symbol: str
    first: int  # inclusive
    last: int  # inclusive


@dataclass(frozen=True, slots=True)
class Done:
    symbol: str
    first: int
    last: int
    count: int


def encode_hello(hello: Hello) -> bytes:
    return _pack(
        {
            "sym": hello.symbol,
            "ses": hello.session,
            "seq": hello.seq,
            "first": hello.first,
            "last": hello.last,
        }
    )


def decode_hello(data: bytes) -> Hello:
    record = unpack_map(data)
    try:
        return Hello(
            symbol=check_symbol_field(record["sym"]),
            session=check_uint_field(record["ses"], "ses"),
            seq=check_uint_field(record["seq"], "seq"),
            first=check_uint_field(record["first"], "first"),
            last=check_uint_field(record["last"], "last"),
        )
    except KeyError as exc:
        raise DecodeError(f"hello lacks field {exc.args[0]!r}") from exc


def encode_fetch(fetch: Fetch) -> bytes:
    return _pack({"sym": fetch.symbol, "from": fetch.first, "to": fetch.last})


def decode_fetch(data: bytes) -> Fetch:
    record = unpack_map(data)
    try:
        fetch = Fetch(
            symbol=check_symbol_field(record["sym"]),
            first=check_uint_field(record["from"], "from"),
            last=check_uint_field(record["to"], "to"),
        )
    except KeyError as exc:
        raise DecodeError(f"fetch lacks field {exc.args[0]!r}") from exc
    if not 0 <= fetch.last - fetch.first < MAX_FETCH_SECONDS:
        raise DecodeError(f"fetch range {fetch.first}..{fetch.last} is empty or too long")
    return fetch


def encode_done(done: Done) -> bytes:
    return _pack({"sym": done.symbol, "from": done.first, "to": done.last, "count": done.count})


def decode_done(data: bytes) -> Done:
    record = unpack_map(data)
    try:
        return Done(
            symbol=check_symbol_field(record["sym"]),
            first=check_uint_field(record["from"], "from"),
            last=check_uint_field(record["to"], "to"),
            count=check_uint_field(record["count"], "count"),
        )
    except KeyError as exc:
        raise DecodeError(f"done lacks field {exc.args[0]!r}") from exc


def _pack(record: dict[str, Any]) -> bytes:
    return msgpack.packb({"v": SCHEMA_VERSION, **record}, use_bin_type=True)
