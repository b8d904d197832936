"""Pure validation of everything that arrives over ZeroMQ, before it can touch the database.

A second arrives as its two stored values, ``[book, trades]`` (after the ``snap.`` topic on the
SUB socket, after ``record`` on the backfill channel). Validation is the typed decode of both
(``shared.codec``) plus the checks a type cannot express: the book's order, the frames' agreement,
and a second close to this machine's clock. What passes is stored as the bytes that arrived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.codec import (
    MAX_PAYLOAD,
    SNAP_PREFIX,
    check_second,
    decode_book,
    decode_trades,
    symbol_of_topic,
)
from shared.errors import DecodeError
from writer.pending import Record, trade_fields


class Rejected(Exception):
    """A message that must not be stored; ``reason`` is a short counter name."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Limits:
    """How far a record's second may be from this machine's clock."""

    max_age: int = 86_400  # backfilled seconds are minutes old; a day is plenty
    max_ahead: int = 60


MAX_TOPICS = 4096  # valid topics remembered (bounded: topics come from outside)
_TOPICS: dict[bytes, str] = {}  # valid ``snap.`` topics seen → their symbol


def split_message(frames: Sequence[bytes]) -> tuple[str, bytes, bytes]:
    """``[topic, book, trades]`` → (the topic's symbol, book, trades); Rejected otherwise."""
    if len(frames) != 3:
        raise Rejected("frames", f"expected 3 frames [topic, book, trades], got {len(frames)}")
    topic, book, trades = frames
    # A handful of collectors send the same few topics all day: parse each once.
    symbol = _TOPICS.get(topic)
    if symbol is None:
        symbol = topic_symbol(topic)
    return symbol, book, trades


def topic_symbol(topic: bytes) -> str:
    """The symbol of a ``snap.<SYMBOL>`` topic (remembered); Rejected if it is not one."""
    symbol = _TOPICS.get(topic)
    if symbol is not None:
        return symbol
    if not topic.startswith(SNAP_PREFIX):
        raise Rejected("topic", f"not a snap.<SYMBOL> topic: {topic[:40]!r}")
    try:
        symbol = symbol_of_topic(topic)
    except DecodeError as exc:
        raise Rejected("topic", str(exc)) from exc
    if len(_TOPICS) < MAX_TOPICS:
        _TOPICS[bytes(topic)] = symbol
    return symbol


def validate_message(
    frames: Sequence[bytes], now: float, limits: Limits, received: float
) -> Record:
    """The Record of a ``[topic, book, trades]`` message from the SUB socket; Rejected if bad."""
    symbol, book, trades = split_message(frames)
    return validate_record(book, trades, now, limits, received, symbol=symbol)


def validate_record(
    book_bytes: bytes,
    trades_bytes: bytes,
    now: float,
    limits: Limits,
    received: float,
    *,
    symbol: str | None = None,
    backfilled: bool = False,
) -> Record:
    """Decode and check one second's two values; the Record that stores them as they came."""
    if len(book_bytes) > MAX_PAYLOAD or len(trades_bytes) > MAX_PAYLOAD:
        size = max(len(book_bytes), len(trades_bytes))
        raise Rejected("size", f"frame of {size} bytes exceeds {MAX_PAYLOAD}")
    try:
        book, trades = decode_book(book_bytes), decode_trades(trades_bytes)
    except DecodeError as exc:
        raise Rejected("decode", str(exc)) from exc
    try:
        check_second(book, trades, symbol)
    except DecodeError as exc:
        raise Rejected("symbol", str(exc)) from exc
    check_time(book.second, now, limits)
    return Record(
        book.symbol,
        book.second,
        book_bytes,
        trades_bytes,
        book.session,
        book.seq,
        backfilled,
        received,
        trade_fields(trades.trades),
    )


def check_time(second: int, now: float, limits: Limits) -> None:
    """Rejected unless ``second`` lies within [now - max_age, now + max_ahead]."""
    if not now - limits.max_age <= second <= now + limits.max_ahead:
        raise Rejected(
            "timestamp",
            f"second {second} is outside [{int(now) - limits.max_age}, "
            f"{int(now) + limits.max_ahead}] (now {int(now)})",
        )
