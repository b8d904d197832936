"""Stored records of a run as int64 arrays: books (``FlatBooks``) and trades (``FlatTrades``).

A run's records are taken apart at once (``shared.envelope``) and their level and trade arrays
read at once (``shared.unpack``): no Python object per level or trade. A run that does not take
apart that way is decoded with the schema (``shared.codec``, the sides left as bytes) and its
arrays read the same way. Order and crossing are not checked: the writer checked them before
storing. Pure: bytes in, arrays out, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np
from msgspec.structs import astuple

from shared.codec import (
    decode_books_raw,
    decode_level_arrays,
    decode_trade_arrays,
    decode_trades_raw,
)
from shared.envelope import LEVEL_KINDS, TRADE_KINDS, book_layout, locate, trades_layout
from shared.model import MAX_LEVELS, MAX_TRADES
from shared.scan import Scan
from shared.unpack import rows, unpack

BOOK_FIELDS = ("second", "session", "seq", "update_id", "ts_event", "ts_recv")
_BIDS, _ASKS, _TRADES = attrgetter("bids"), attrgetter("asks"), attrgetter("trades")


@dataclass(frozen=True)
class FlatBooks:
    """A run of books as int64 arrays: six scalar columns and each side's levels."""

    scalars: np.ndarray  # shape (6, rows): second, session, seq, update_id, ts_event, ts_recv
    bid_lengths: np.ndarray  # levels kept per book
    bids: np.ndarray  # shape (levels, 2): price, qty of every kept level
    ask_lengths: np.ndarray
    asks: np.ndarray

    @property
    def rows(self) -> int:
        return len(self.bid_lengths)

    @property
    def held(self) -> int:
        """Levels held (both sides)."""
        return len(self.bids) + len(self.asks)

    def split(self, rows: int) -> tuple[FlatBooks, FlatBooks]:
        """The first ``rows`` books and the rest."""
        bids, asks = int(self.bid_lengths[:rows].sum()), int(self.ask_lengths[:rows].sum())
        head = FlatBooks(
            self.scalars[:, :rows],
            self.bid_lengths[:rows],
            self.bids[:bids],
            self.ask_lengths[:rows],
            self.asks[:asks],
        )
        tail = FlatBooks(
            self.scalars[:, rows:],
            self.bid_lengths[rows:],
            self.bids[bids:],
            self.ask_lengths[rows:],
            self.asks[asks:],
        )
        return head, tail


def _levels(sides: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    return rows(decode_level_arrays(sides), len(LEVEL_KINDS))


def _trades(arrays: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    return rows(decode_trade_arrays(arrays), len(TRADE_KINDS), astuple)


def flatten(symbol: str, values: Sequence[bytes], levels: int | None = None) -> FlatBooks:
    """Int64 arrays of ``symbol``'s stored book records (``levels``: the best N of each side)."""
    count = len(values)
    located = locate(book_layout(symbol, LEVEL_KINDS), values)
    if located is not None:
        columns: list[Any] = [located.scalars[name] for name in BOOK_FIELDS]
        (bid_starts, bid_ends), (ask_starts, ask_ends) = (
            located.spans["bids"],
            located.spans["asks"],
        )
        source: Scan | list[bytes] = located.scan
        spans = (np.concatenate([bid_starts, ask_starts]), np.concatenate([bid_ends, ask_ends]))
    else:  # not as msgspec writes it: the schema decodes the scalars, or raises DecodeError
        books = decode_books_raw(symbol, values)
        columns = [list(map(attrgetter(name), books)) for name in BOOK_FIELDS]
        source, spans = [*map(_BIDS, books), *map(_ASKS, books)], None
    scalars = np.array(columns, dtype=np.int64).reshape(len(BOOK_FIELDS), count)
    # Both sides of every book in one call: each step then reads twice as many arrays.
    lengths, pairs = unpack(source, LEVEL_KINDS, MAX_LEVELS, _levels, limit=levels, spans=spans)
    split = int(lengths[:count].sum())
    return FlatBooks(scalars, lengths[:count], pairs[:split], lengths[count:], pairs[split:])


@dataclass(frozen=True)
class FlatTrades:
    """A run of seconds' trades as arrays: second, agg_id, price, qty, ts_trade; buyer_maker."""

    counts: np.ndarray  # trades per stored second (record)
    ints: np.ndarray  # shape (5, trades), int64
    makers: np.ndarray  # bool

    @property
    def rows(self) -> int:
        """Stored seconds (records), with or without trades."""
        return len(self.counts)

    @property
    def held(self) -> int:
        """Trades held."""
        return len(self.makers)

    def split(self, rows: int) -> tuple[FlatTrades, FlatTrades]:
        """The trades of the first ``rows`` seconds and the rest."""
        trades = int(self.counts[:rows].sum())
        head = FlatTrades(self.counts[:rows], self.ints[:, :trades], self.makers[:trades])
        tail = FlatTrades(self.counts[rows:], self.ints[:, trades:], self.makers[trades:])
        return head, tail


def flatten_trades(symbol: str, values: Sequence[bytes]) -> FlatTrades:
    """Arrays of every trade of ``symbol``'s stored trades records, all read at once."""
    located = locate(trades_layout(symbol, TRADE_KINDS), values)
    if located is not None:
        seconds = located.scalars["second"]
        source: Scan | list[bytes] = located.scan
        spans: tuple[np.ndarray, np.ndarray] | None = located.spans["trades"]
    else:  # not as msgspec writes it: the schema decodes the records, or raises DecodeError
        records = decode_trades_raw(symbol, values)
        seconds = np.array([record.second for record in records], dtype=np.int64)
        source, spans = list(map(_TRADES, records)), None
    counts, fields = unpack(source, TRADE_KINDS, MAX_TRADES, _trades, spans=spans)
    ints = np.empty((5, len(fields)), dtype=np.int64)
    ints[0] = np.repeat(seconds, counts)
    ints[1:] = fields[:, :4].T
    return FlatTrades(counts, ints, fields[:, 4].astype(np.bool_))
