"""The Arrow form of stored seconds: one schema for books, one for trades, and their builders.

Pure: decoded ``shared.model`` records in, ``pyarrow.RecordBatch`` out, no I/O.

Prices and quantities are ``decimal128(19, 8)``: the unscaled value of a decimal *is* booksnap's
int scaled by 10^8, so a column is built from the stored ints with no arithmetic and no Python
object per value, and every tool shows the number Binance sent (DuckDB ``DECIMAL(19,8)``, polars
``Decimal``, pandas ``decimal.Decimal``). Precision 19, not 18: the largest amount a record may
hold is 2^63-1 scaled (``92233720368.54775807``, 11 integer digits), and real books do carry
quantities of 10^10 and more (meme tokens); 18 digits would refuse them. Scaled int64 columns
were the alternative: faster in pandas, but DuckDB and polars drop Arrow schema metadata, so the
scale would be a convention every query must remember, and a forgotten ``/ 1e8`` is a silent
error 10^8 times too large.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable
from itertools import chain
from operator import attrgetter

import numpy as np
import pyarrow as pa

from shared.fixedpoint import DECIMALS
from shared.model import BookSnapshot, Trade

AMOUNT = pa.decimal128(19, DECIMALS)
LEVELS = pa.list_(AMOUNT)
MILLIS = pa.timestamp("ms", tz="UTC")
SECONDS = pa.timestamp("s", tz="UTC")
METADATA = {
    b"booksnap.amounts": b"decimal128(19, 8): exact prices and quantities as Binance sent them",
    b"booksnap.levels": b"bid_*/ask_* lists: best level first, as stored",
}

BOOK_SCHEMA = pa.schema(
    [
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("second", pa.int64(), nullable=False),  # unix second: the record's key
        pa.field("time", SECONDS, nullable=False),  # the same second as a UTC timestamp
        pa.field("session", pa.int64(), nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("update_id", pa.int64(), nullable=False),
        pa.field("ts_event", MILLIS, nullable=False),
        pa.field("ts_recv", MILLIS, nullable=False),
        pa.field("bid_price", AMOUNT),  # null when the side is empty
        pa.field("bid_qty", AMOUNT),
        pa.field("ask_price", AMOUNT),
        pa.field("ask_qty", AMOUNT),
        pa.field("bid_prices", LEVELS, nullable=False),
        pa.field("bid_qtys", LEVELS, nullable=False),
        pa.field("ask_prices", LEVELS, nullable=False),
        pa.field("ask_qtys", LEVELS, nullable=False),
    ],
    metadata=METADATA,
)

TRADE_SCHEMA = pa.schema(
    [
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("second", pa.int64(), nullable=False),
        pa.field("agg_id", pa.int64(), nullable=False),
        pa.field("price", AMOUNT, nullable=False),
        pa.field("qty", AMOUNT, nullable=False),
        pa.field("ts_trade", MILLIS, nullable=False),
        pa.field("buyer_maker", pa.bool_(), nullable=False),  # true: the taker sold
    ],
    metadata={b"booksnap.amounts": METADATA[b"booksnap.amounts"]},
)

_TRADE_FIELDS = ("agg_id", "price", "qty", "ts_trade")


def amounts(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Scaled int64 values → ``decimal128(19, 8)`` with the same digits (no Python loop).

    A decimal128 is a 128-bit two's-complement integer, low word first on a little-endian
    machine: the int64 is the low word and its sign the high word.
    """
    words = np.empty((len(values), 2), dtype=np.int64)
    words[:, 0] = values
    words[:, 1] = words[:, 0] >> 63
    bitmap = None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.Array.from_buffers(AMOUNT, len(values), [bitmap, pa.py_buffer(words)])


def _symbols(symbol: str, rows: int) -> pa.Array:
    return pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(rows, dtype=np.int32)), pa.array([symbol])
    ).cast(pa.string())


def _side(flat: array[int], counts: array[int]) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """(best price, best qty, price lists, qty lists) of one side from its flattened levels."""
    pairs = np.frombuffer(flat, dtype=np.int64).reshape(-1, 2)
    lengths = np.frombuffer(counts, dtype=np.int64)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    valid = lengths > 0
    firsts = np.where(valid, offsets[:-1], 0)
    if len(pairs):
        best_price, best_qty = pairs[firsts, 0], pairs[firsts, 1]
    else:
        best_price = best_qty = np.zeros(len(lengths), dtype=np.int64)
    arrow_offsets = pa.array(offsets)
    return (
        amounts(best_price, valid),
        amounts(best_qty, valid),
        pa.ListArray.from_arrays(arrow_offsets, amounts(pairs[:, 0]), type=LEVELS),
        pa.ListArray.from_arrays(arrow_offsets, amounts(pairs[:, 1]), type=LEVELS),
    )


class BookColumns:
    """Accumulates decoded books of one symbol into the columns of one RecordBatch.

    Levels are flattened into C arrays of int64 as each book arrives (``array.extend`` walks
    the tuples in C), so no book object outlives its ``add``.
    """

    def __init__(self, symbol: str, levels: int | None = None) -> None:
        self.symbol = symbol
        self.levels = levels
        self.rows = 0
        self.level_count = 0
        self._scalars: tuple[list[int], ...] = tuple([] for _ in range(6))
        self._bids: array[int] = array("q")
        self._asks: array[int] = array("q")
        self._bid_counts: array[int] = array("q")
        self._ask_counts: array[int] = array("q")

    def add(self, book: BookSnapshot) -> None:
        seconds, sessions, seqs, uids, events, recvs = self._scalars
        seconds.append(book.second)
        sessions.append(book.session)
        seqs.append(book.seq)
        uids.append(book.update_id)
        events.append(book.ts_event)
        recvs.append(book.ts_recv)
        bids, asks = book.bids, book.asks
        if self.levels is not None:
            bids, asks = bids[: self.levels], asks[: self.levels]
        self._bids.extend(chain.from_iterable(bids))
        self._asks.extend(chain.from_iterable(asks))
        self._bid_counts.append(len(bids))
        self._ask_counts.append(len(asks))
        self.rows += 1
        self.level_count += len(bids) + len(asks)

    def batch(self) -> pa.RecordBatch:
        seconds, sessions, seqs, uids, events, recvs = (
            np.array(column, dtype=np.int64) for column in self._scalars
        )
        bid_price, bid_qty, bid_prices, bid_qtys = _side(self._bids, self._bid_counts)
        ask_price, ask_qty, ask_prices, ask_qtys = _side(self._asks, self._ask_counts)
        columns = [
            _symbols(self.symbol, self.rows),
            pa.array(seconds),
            pa.array(seconds, type=SECONDS),
            pa.array(sessions),
            pa.array(seqs),
            pa.array(uids),
            pa.array(events, type=MILLIS),
            pa.array(recvs, type=MILLIS),
            bid_price,
            bid_qty,
            ask_price,
            ask_qty,
            bid_prices,
            bid_qtys,
            ask_prices,
            ask_qtys,
        ]
        return pa.RecordBatch.from_arrays(columns, schema=BOOK_SCHEMA)


class TradeColumns:
    """Accumulates the decoded trades of one symbol's seconds into one RecordBatch."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.seconds = 0
        self._trades: list[Trade] = []
        self._seconds: array[int] = array("q")
        self._counts: array[int] = array("q")

    @property
    def rows(self) -> int:
        return len(self._trades)

    def add(self, second: int, trades: Iterable[Trade]) -> None:
        before = len(self._trades)
        self._trades.extend(trades)
        self._seconds.append(second)
        self._counts.append(len(self._trades) - before)
        self.seconds += 1

    def batch(self) -> pa.RecordBatch:
        trades, rows = self._trades, len(self._trades)
        agg_id, price, qty, ts_trade = (
            np.fromiter(map(attrgetter(name), trades), dtype=np.int64, count=rows)
            for name in _TRADE_FIELDS
        )
        makers = np.fromiter(map(attrgetter("buyer_maker"), trades), dtype=np.bool_, count=rows)
        seconds = np.repeat(
            np.frombuffer(self._seconds, dtype=np.int64),
            np.frombuffer(self._counts, dtype=np.int64),
        )
        columns = [
            _symbols(self.symbol, rows),
            pa.array(seconds),
            pa.array(agg_id),
            amounts(price),
            amounts(qty),
            pa.array(ts_trade, type=MILLIS),
            pa.array(makers),
        ]
        return pa.RecordBatch.from_arrays(columns, schema=TRADE_SCHEMA)


if sys.byteorder != "little":  # pragma: no cover - every platform booksnap ships on is
    raise ImportError("booksnap.columns builds decimal128 buffers for little-endian machines")
