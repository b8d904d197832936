"""The backfill channel: how a writer gets back the seconds it missed from a collector.

The writer binds a ROUTER on ``BOOKSNAP_BACKFILL_ENDPOINT``; every collector connects a DEALER
whose routing id is its symbol (ASCII). Messages are multipart
``[kind, msgpack payload...]``, each payload one of the Structs below (``codec.encode``):

- collector → writer ``[b"hello", {"sym", "ses", "seq", "first", "last"}]`` on connect and
  every few seconds: who it is and which seconds (``first``..``last``) its buffer holds.
- writer → collector ``[b"fetch", {"sym", "from", "to"}]``: send the records of these seconds.
- collector → writer ``[b"record", book, trades]`` once per buffered second in range (the two
  frames exactly as published on the ``snap.`` feed),
  then ``[b"done", {"sym", "from", "to", "count"}]``.
"""

from __future__ import annotations

import msgspec
from msgspec import Struct, field

from shared.codec import decode
from shared.errors import DecodeError
from shared.model import SCHEMA_VERSION, Symbol, UInt64, Version

HELLO = b"hello"
FETCH = b"fetch"
RECORD = b"record"
DONE = b"done"

MAX_FETCH_SECONDS = 3600
# A collector buffers minutes of records; a hello claiming a longer span is refused at once, so
# that no number from the socket can size the writer's fetch planning (docs/reliability.md).
MAX_HELLO_SPAN = 86_400


class Hello(Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    symbol: Symbol = field(name="sym")
    session: UInt64 = field(name="ses")
    seq: UInt64 = field(name="seq")  # the last sequence number published
    first: UInt64 = field(name="first")  # oldest buffered second (0 when the buffer is empty)
    last: UInt64 = field(name="last")  # newest buffered second (0 when the buffer is empty)
    # The live self-check (collector/selfcheck.py) since the session began: comparisons of the
    # book with a bookTicker, and how many differed. Absent from older collectors' hellos.
    checks: UInt64 = field(default=0, name="chk")
    mismatches: UInt64 = field(default=0, name="mis")
    version: Version = field(default=SCHEMA_VERSION, name="v")


class Fetch(Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    symbol: Symbol = field(name="sym")
    first: UInt64 = field(name="from")  # inclusive
    last: UInt64 = field(name="to")  # inclusive
    version: Version = field(default=SCHEMA_VERSION, name="v")


class Done(Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    symbol: Symbol = field(name="sym")
    first: UInt64 = field(name="from")
    last: UInt64 = field(name="to")
    count: UInt64 = field(name="count")
    version: Version = field(default=SCHEMA_VERSION, name="v")


_HELLO = msgspec.msgpack.Decoder(Hello)
_FETCH = msgspec.msgpack.Decoder(Fetch)
_DONE = msgspec.msgpack.Decoder(Done)


def decode_hello(data: bytes) -> Hello:
    hello = decode(data, _HELLO, "hello")
    empty = hello.first == 0 and hello.last == 0
    if not empty and not 0 < hello.first <= hello.last <= hello.first + MAX_HELLO_SPAN:
        raise DecodeError(
            f"hello span {hello.first}..{hello.last} is reversed or longer than "
            f"{MAX_HELLO_SPAN} seconds"
        )
    return hello


def decode_fetch(data: bytes) -> Fetch:
    fetch = decode(data, _FETCH, "fetch")
    if not 0 <= fetch.last - fetch.first < MAX_FETCH_SECONDS:
        raise DecodeError(f"fetch range {fetch.first}..{fetch.last} is empty or too long")
    return fetch


def decode_done(data: bytes) -> Done:
    done = decode(data, _DONE, "done")
    if not 0 <= done.last - done.first < MAX_FETCH_SECONDS:
        raise DecodeError(f"done range {done.first}..{done.last} is empty or too long")
    return done
