"""Validation of a drained run of ``snap.`` messages at once, in numpy columns.

The per-record path (``writer.validate``: msgspec's typed decode of both frames, then the order,
crossing, agreement and time checks) costs ~16 µs a record, most of it Python objects made per
level and trade. Here the book and trades frames of a whole run are taken apart at once
(``shared.envelope``, every record's symbol compared with its topic's), their level and trade
arrays read into int64 matrices by a compiled walk (``shared.unpack``), and the checks done on
whole columns. This path only *accepts*: a record it does not accept (anything off msgspec's own
encoding, any failed check) goes through ``validate_message`` itself, which accepts it or names
the exact cause, so what is stored and what is rejected, with which message, is the per-record
path's on every input (``tests/unit/writer/test_columns.py`` compares the two). A rejected
record costs the per-record path once: O(1) beyond its own bytes.

Pure: frames in, Records out, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import numpy as np
from msgspec.structs import astuple

from shared.codec import LEVELS_DECODER, MAX_PAYLOAD, TRADES_DECODER
from shared.envelope import (
    LEVEL_KINDS,
    TRADE_KINDS,
    book_layout,
    encode_value,
    take_apart,
    trades_layout,
)
from shared.model import MAX_LEVELS, MAX_TRADES
from shared.unpack import rows, unpack
from writer.pending import Record
from writer.validate import _TOPICS, Limits, Rejected, topic_symbol, validate_message

# Below this many messages the per-record path is cheaper than a run's ~150 numpy calls: best of
# 5 over 20,000 real seconds, drains of 25 cost 15.6 µs a record in runs against 16.2 per record,
# of 50 9.6 against 16.2, of 150 6.8 against 16.6. It is the path every message the columns do
# not accept takes, so the results do not depend on it.
MIN_RUN = 32
# Runs of at most this many: the arrays of a run then stay in the CPU caches (drains of 5,000
# real seconds, best of 5: runs of 1,000 4.1-5.2 µs a record, of 500 or 2,500 4.7-5.5, one run of
# 5,000 5.3-5.6).
MAX_RUN = 1000
# Larger frames go through the per-record path: a run joins its frames (twice, with the padded
# copy the scan reads), so this bounds a run's extra memory to ~4 x 1,000 x 32 KiB; frames of
# MAX_PAYLOAD would make it gigabytes. A 20-level book is ~0.8 KB, a second of ~800 trades 32 KB.
LARGEST = 32 * 1024
assert LARGEST < MAX_PAYLOAD  # so a frame the columns take is never one to reject for size
_BOOK = book_layout("BTCUSDT", LEVEL_KINDS)  # the symbol is compared per record instead
_TRADES = trades_layout("BTCUSDT", TRADE_KINDS)
_ENCODED: dict[str, bytes] = {}  # symbol → its MessagePack (topics are bounded: _TOPICS)


def validate_messages(
    messages: Sequence[Sequence[bytes]], now: float, limits: Limits, received: float
) -> list[Record | Rejected]:
    """Per message, in order: its Record, or the Rejected that ``validate_message`` raises."""
    results: list[Record | Rejected | None] = [None] * len(messages)
    if len(messages) >= MIN_RUN:
        for first in range(0, len(messages), MAX_RUN):
            part = messages[first : first + MAX_RUN]
            done = results[first : first + MAX_RUN]
            _accept_run(part, now, limits, received, done)
            results[first : first + MAX_RUN] = done
    for index, result in enumerate(results):
        if result is None:
            try:
                results[index] = validate_message(messages[index], now, limits, received)
            except Rejected as rejected:
                results[index] = rejected
    return results  # type: ignore[return-value]  # every None was replaced


def _accept_run(
    messages: Sequence[Sequence[bytes]],
    now: float,
    limits: Limits,
    received: float,
    results: list[Record | Rejected | None],
) -> None:
    """Fill ``results`` with the Records of the messages the columnar checks accept."""
    topics = _TOPICS
    candidates = [
        (index, symbol, frames[1], frames[2])
        for index, frames in enumerate(messages)
        if len(frames) == 3
        and len(frames[1]) <= LARGEST
        and len(frames[2]) <= LARGEST
        and (symbol := topics.get(frames[0]) or _symbol(frames[0]))
    ]
    if len(candidates) < MIN_RUN:
        return
    indices, symbols, books, trades = zip(*candidates, strict=True)
    encoded = [_ENCODED.get(s) or _ENCODED.setdefault(s, encode_value(s)) for s in symbols]
    book, ok = take_apart(_BOOK, books, encoded)
    trade, trades_ok = take_apart(_TRADES, trades, encoded)
    ok &= trades_ok
    second = book.scalars["second"]
    ok &= second == trade.scalars["second"]
    # As ``check_time``: the window is compared in floats, exactly for any second near now.
    seconds = second.astype(np.float64)
    ok &= (now - limits.max_age <= seconds) & (seconds <= now + limits.max_ahead)
    kept = np.flatnonzero(ok)
    if len(kept) == 0:
        return
    (bid_starts, bid_ends), (ask_starts, ask_ends) = book.spans["bids"], book.spans["asks"]
    spans = (
        np.concatenate([bid_starts[kept], ask_starts[kept]]),
        np.concatenate([bid_ends[kept], ask_ends[kept]]),
    )
    level_counts, levels = unpack(book.scan, LEVEL_KINDS, MAX_LEVELS, _level_fallback, spans=spans)
    rows = len(kept)
    good = _books_in_order(level_counts, levels, rows)
    exact = _empty_and_exact(level_counts, spans)
    good &= exact[:rows] & exact[rows:]
    trade_starts, trade_ends = trade.spans["trades"]
    trade_spans = (trade_starts[kept], trade_ends[kept])
    trade_counts, fields = unpack(
        trade.scan, TRADE_KINDS, MAX_TRADES, _trade_fallback, spans=trade_spans
    )
    good &= ~_marked(trade_counts, fields) & _empty_and_exact(trade_counts, trade_spans)
    trade_offsets = np.zeros(len(kept) + 1, dtype=np.int64)
    np.cumsum(trade_counts, out=trade_offsets[1:])
    columns = (second, book.scalars["session"], book.scalars["seq"])
    bounds = trade_offsets.tolist()
    for at, accepted, sec, session, seq, lo, hi in zip(
        kept.tolist(),
        good.tolist(),
        *(column[kept].tolist() for column in columns),
        bounds,
        bounds[1:],
        strict=False,  # ``bounds`` is one longer
    ):
        if accepted:
            results[indices[at]] = Record(
                symbols[at],
                sec,
                books[at],
                trades[at],
                session,
                seq,
                False,
                received,
                fields[lo:hi],
            )


def _symbol(topic: bytes) -> str | None:
    """The symbol of a topic not remembered yet (it is, from now on); None if not valid."""
    try:
        return topic_symbol(topic)
    except Rejected:
        return None


def _books_in_order(counts: np.ndarray, levels: np.ndarray, rows: int) -> np.ndarray:
    """Per book (``counts``: its bid arrays, then its ask arrays): read, ordered, not crossed."""
    marked = _marked(counts, levels)
    bad = marked[:rows] | marked[rows:]
    owner = np.repeat(np.arange(2 * rows), counts)
    prices = levels[:, 0]
    later = prices[1:]
    same_array = owner[1:] == owner[:-1]
    # Bids strictly fall, asks strictly rise, within each array.
    wrong = same_array & np.where(owner[1:] < rows, later >= prices[:-1], later <= prices[:-1])
    bad[owner[1:][wrong] % rows] = True
    offsets = np.zeros(2 * rows + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    books = np.flatnonzero((counts[:rows] > 0) & (counts[rows:] > 0))
    bad[books[prices[offsets[books]] >= prices[offsets[rows + books]]]] = True
    return ~bad


def _marked(counts: np.ndarray, elements: np.ndarray) -> np.ndarray:
    """Per array: whether the fallback marked one of its elements unreadable (-1)."""
    marked = np.zeros(len(counts), dtype=bool)
    if len(elements) and elements.min() < 0:
        bad = (elements < 0).any(axis=1)
        marked[np.repeat(np.arange(len(counts)), counts)[bad]] = True
    return marked


def _empty_and_exact(counts: np.ndarray, spans: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Per array: unless it is empty, True; if empty, whether its bytes are just ``0x90``.

    An empty array has no element to mark, so its fallback's verdict is checked here: bytes
    after an empty array's header are a record off the fast path.
    """
    starts, ends = spans
    return (counts > 0) | (ends - starts == 1)


def _tolerant(
    decoder: msgspec.msgpack.Decoder[Any], arity: int, most: int, row: Callable[[Any], Any]
) -> Callable[[Sequence[bytes]], tuple[np.ndarray, np.ndarray]]:
    """``unpack``'s fallback for untrusted arrays: each typed-decoded on its own (so one array's
    bytes can never be read as part of another's); an array that does not decode gets the count
    of its header (what ``unpack`` expects of it) in rows of -1, which no valid field is.

    ``row``: an element as its fields (a level is one already; a Trade is not).
    """

    def decoded(arrays: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        return rows(list(map(decoder.decode, arrays)), arity, row)

    def marked(array: bytes) -> tuple[np.ndarray, np.ndarray]:
        try:
            return decoded([array])
        except _UNDECODABLE:
            count = _header_count(array, most)
            return np.array([count], dtype=np.int64), np.full((count, arity), -1, dtype=np.int64)

    def fallback(arrays: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        try:
            return decoded(arrays)
        except _UNDECODABLE:  # hostile or corrupt input: each array on its own, marked
            parts = list(map(marked, arrays))
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    return fallback


def _header_count(array: bytes, most: int) -> int:
    """The element count of an array header, if at most ``most``; else 1 (one marked row).

    ``unpack`` gives the fallback arrays whose header it read (their count is what it places,
    also for a tail whose bytes are too short for it: so the bytes' length is not checked here,
    unlike ``Scan.arrays``) and arrays whose header it could not read (any count will do: it
    takes the fallback's).
    """
    first = array[0] if array else 0
    if first & 0xF0 == 0x90:
        count = first & 0x0F
    elif first == 0xDC and len(array) >= 3:
        count = int.from_bytes(array[1:3], "big")
    elif first == 0xDD and len(array) >= 5:
        count = int.from_bytes(array[1:5], "big")
    else:
        return 1
    return count if count <= most else 1


_UNDECODABLE = (msgspec.DecodeError, msgspec.ValidationError)
_level_fallback = _tolerant(LEVELS_DECODER, 2, MAX_LEVELS, tuple)
_trade_fallback = _tolerant(TRADES_DECODER, 5, MAX_TRADES, astuple)
