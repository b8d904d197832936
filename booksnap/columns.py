"""The Arrow form of stored seconds: one schema for books, one for trades, and their builders.

Pure: int64 arrays of stored records (``booksnap.flat``) in, ``pyarrow.RecordBatch`` out, no I/O.

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
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from booksnap.flat import BOOK_FIELDS, FlatBooks, FlatTrades, flatten
from shared.fixedpoint import DECIMALS

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


def _side(lengths: np.ndarray, flat: np.ndarray) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """(best price, best qty, price lists, qty lists) of one side."""
    rows = len(lengths)
    prices, qtys = flat[:, 0], flat[:, 1]
    offsets = np.zeros(rows + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    valid = lengths > 0
    firsts = np.where(valid, offsets[:-1], 0)
    if len(prices):
        best_price, best_qty = prices[firsts], qtys[firsts]
    else:
        best_price = best_qty = np.zeros(rows, dtype=np.int64)
    arrow_offsets = pa.array(offsets)
    return (
        amounts(best_price, valid),
        amounts(best_qty, valid),
        pa.ListArray.from_arrays(arrow_offsets, amounts(prices), type=LEVELS),
        pa.ListArray.from_arrays(arrow_offsets, amounts(qtys), type=LEVELS),
    )


def build_batch(symbol: str, parts: Sequence[FlatBooks]) -> pa.RecordBatch:
    """One RecordBatch of BOOK_SCHEMA from consecutive flattened runs of ``symbol``'s books."""
    rows = sum(part.rows for part in parts)
    if parts:
        scalars = np.concatenate([part.scalars for part in parts], axis=1)
        bid_lengths = np.concatenate([part.bid_lengths for part in parts])
        bids = np.concatenate([part.bids for part in parts])
        ask_lengths = np.concatenate([part.ask_lengths for part in parts])
        asks = np.concatenate([part.asks for part in parts])
    else:
        scalars = np.zeros((len(BOOK_FIELDS), 0), dtype=np.int64)
        bid_lengths = ask_lengths = np.zeros(0, dtype=np.int64)
        bids = asks = np.zeros((0, 2), dtype=np.int64)
    seconds, sessions, seqs, uids, events, recvs = scalars
    bid, ask = _side(bid_lengths, bids), _side(ask_lengths, asks)
    columns = [
        _symbols(symbol, rows),
        pa.array(seconds),
        pa.array(seconds, type=SECONDS),
        pa.array(sessions),
        pa.array(seqs),
        pa.array(uids),
        pa.array(events, type=MILLIS),
        pa.array(recvs, type=MILLIS),
        bid[0],  # best bid price, qty
        bid[1],
        ask[0],
        ask[1],
        bid[2],  # bid_prices, bid_qtys
        bid[3],
        ask[2],
        ask[3],
    ]
    return pa.RecordBatch.from_arrays(columns, schema=BOOK_SCHEMA)


def book_batch(symbol: str, values: Sequence[bytes], levels: int | None = None) -> pa.RecordBatch:
    """One RecordBatch of BOOK_SCHEMA from stored book records of ``symbol``."""
    return build_batch(symbol, [flatten(symbol, values, levels)])


def build_trade_batch(symbol: str, parts: Sequence[FlatTrades]) -> pa.RecordBatch:
    """One RecordBatch of TRADE_SCHEMA from consecutive flattened runs of ``symbol``'s trades."""
    if parts:
        ints = np.concatenate([part.ints for part in parts], axis=1)
        makers = np.concatenate([part.makers for part in parts])
    else:
        ints = np.zeros((5, 0), dtype=np.int64)
        makers = np.zeros(0, dtype=np.bool_)
    seconds, agg_id, price, qty, ts_trade = ints
    columns = [
        _symbols(symbol, len(makers)),
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
