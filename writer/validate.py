"""Pure validation of everything that arrives over ZeroMQ, before it can touch the database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from shared.codec import (
    MAX_PAYLOAD,
    SNAP_PREFIX,
    decode_snapshot,
    encode_snapshot,
    encode_trades,
    symbol_of_topic,
)
from shared.errors import DecodeError
from shared.fastcodec import StorableSnapshot, decode_snapshot_for_store
from shared.model import BookSnapshot
from writer.pending import Record

# BookSnapshot (reference decoder) or StorableSnapshot (fast path): both carry symbol and second.
Decoded = TypeVar("Decoded", BookSnapshot, StorableSnapshot)

MAX_TOPIC = len(SNAP_PREFIX) + 20  # "snap." + the longest valid symbol


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


def split_message(frames: list[bytes]) -> tuple[str, bytes]:
    """``[topic, payload]`` → (the topic's symbol, payload); Rejected for any other shape."""
    if len(frames) != 2:
        raise Rejected("frames", f"expected 2 frames [topic, payload], got {len(frames)}")
    topic, payload = frames
    if len(topic) > MAX_TOPIC or not topic.startswith(SNAP_PREFIX):
        raise Rejected("topic", f"not a snap.<SYMBOL> topic: {topic[:40]!r}")
    try:
        topic_symbol = symbol_of_topic(topic)
    except DecodeError as exc:
        raise Rejected("topic", str(exc)) from exc
    return topic_symbol, payload


def storable_message(frames: list[bytes], now: float, limits: Limits) -> StorableSnapshot:
    """``validate_message`` without building a BookSnapshot: the bytes to store, checked alike.

    The writer's hot path (see ``codec.decode_snapshot_for_store``).
    """
    topic_symbol, payload = split_message(frames)
    return _same_symbol(topic_symbol, storable_payload(payload, now, limits))


def storable_payload(payload: bytes, now: float, limits: Limits) -> StorableSnapshot:
    """``validate_payload`` on the fast path; Rejected with the same reasons."""
    return _checked_payload(payload, decode_snapshot_for_store, now, limits)


def storable_record(snap: StorableSnapshot, received: float, *, backfilled: bool = False) -> Record:
    """The Record of a payload validated on the fast path (its values are already encoded)."""
    return Record(
        snap.symbol,
        snap.second,
        snap.snapshot,
        snap.trades,
        snap.session,
        snap.seq,
        backfilled,
        received,
        snap.prices,
        snap.qtys,
        snap.buyer_maker,
    )


def validate_message(frames: list[bytes], now: float, limits: Limits) -> BookSnapshot:
    """Check a ``[topic, payload]`` message from the SUB socket; Rejected if it is not storable."""
    topic_symbol, payload = split_message(frames)
    return _same_symbol(topic_symbol, validate_payload(payload, now, limits))


def validate_payload(payload: bytes, now: float, limits: Limits) -> BookSnapshot:
    """Decode a snapshot payload (live or backfilled) and check its second; Rejected if bad."""
    return _checked_payload(payload, decode_snapshot, now, limits)


def _checked_payload(
    payload: bytes, decode: Callable[[bytes], Decoded], now: float, limits: Limits
) -> Decoded:
    """Size, decode and second checks shared by the reference and the fast decoder."""
    if len(payload) > MAX_PAYLOAD:
        raise Rejected("size", f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    try:
        snap = decode(payload)
    except DecodeError as exc:
        raise Rejected("decode", str(exc)) from exc
    except Exception as exc:  # a decoder bug must not take the writer down with it
        raise Rejected("decode", f"{type(exc).__name__}: {exc}") from exc
    check_second(snap.second, now, limits)
    return snap


def _same_symbol(topic_symbol: str, snap: Decoded) -> Decoded:
    if snap.symbol != topic_symbol:
        raise Rejected("symbol", f"topic {topic_symbol} carries a {snap.symbol} snapshot")
    return snap


def check_second(second: int, now: float, limits: Limits) -> None:
    """Rejected unless ``second`` lies within [now - max_age, now + max_ahead]."""
    if not now - limits.max_age <= second <= now + limits.max_ahead:
        raise Rejected(
            "timestamp",
            f"second {second} is outside [{int(now) - limits.max_age}, "
            f"{int(now) + limits.max_ahead}] (now {int(now)})",
        )


def to_record(snap: BookSnapshot, received: float, *, backfilled: bool = False) -> Record:
    """Encode a validated snapshot into the two values the writer stores for its second."""
    return Record(
        symbol=snap.symbol,
        second=snap.second,
        snapshot=encode_snapshot(snap, with_trades=False),
        trades=encode_trades(snap.symbol, snap.second, snap.trades),
        session=snap.session,
        seq=snap.seq,
        backfilled=backfilled,
        received=received,
        prices=tuple(t.price for t in snap.trades),
        qtys=tuple(t.qty for t in snap.trades),
        buyer_maker=tuple(t.buyer_maker for t in snap.trades),
    )
