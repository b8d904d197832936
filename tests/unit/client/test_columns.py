"""The Arrow columns of books and trades hold exactly the stored ints, as decimal(19, 8)."""

from __future__ import annotations

import random
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from booksnap.columns import (
    AMOUNT,
    BOOK_SCHEMA,
    TRADE_SCHEMA,
    amounts,
    book_batch,
    build_trade_batch,
)
from booksnap.flat import flatten_trades
from shared.codec import encode
from shared.errors import DecodeError
from shared.model import BookSnapshot, SecondTrades, Trade

MAX_INT64 = 2**63 - 1


def decimal_of(scaled: int) -> Decimal:
    """The reference: the scaled int read as a number with 8 decimals (no booksnap code)."""
    sign = "-" if scaled < 0 else ""
    whole, frac = divmod(abs(scaled), 100_000_000)
    return Decimal(f"{sign}{whole}.{frac:08d}")


def random_book(rng: random.Random, second: int, bids: int, asks: int) -> BookSnapshot:
    top = rng.randint(10**9, 10**15)
    bid_levels = tuple((top - i * 7 - 1, rng.randint(1, MAX_INT64)) for i in range(bids))
    ask_levels = tuple((top + i * 7 + 1, rng.randint(1, 10**8)) for i in range(asks))
    return BookSnapshot(
        "BTCUSDT",
        second,
        rng.randint(0, MAX_INT64),
        second,
        rng.randint(0, MAX_INT64),
        second * 1000 + 990,
        second * 1000 + 995,
        bid_levels,
        ask_levels,
    )


def test_amounts_are_exact_for_every_int64_magnitude():
    values = [1, 5, 10**8, 6183763000000, 10**18, MAX_INT64, -1, -MAX_INT64]
    array = amounts(np.array(values, dtype=np.int64))

    assert array.type == AMOUNT
    assert array.to_pylist() == [decimal_of(v) for v in values]


@pytest.mark.parametrize("levels", [None, 1, 5])
def test_book_batch_matches_the_records_row_by_row(levels):
    rng = random.Random(levels or 0)
    books = [
        random_book(rng, 1_700_000_000 + i, rng.choice([0, 1, 5, 20]), rng.choice([0, 3, 20]))
        for i in range(60)
    ]
    batch = book_batch("BTCUSDT", [encode(book) for book in books], levels)

    assert batch.schema == BOOK_SCHEMA
    rows = batch.to_pylist()
    for book, row in zip(books, rows, strict=True):
        bids, asks = book.bids[:levels], book.asks[:levels]
        assert row["symbol"] == "BTCUSDT"
        assert row["second"] == book.second
        assert int(row["time"].timestamp()) == book.second
        assert (row["session"], row["seq"], row["update_id"]) == (
            book.session,
            book.seq,
            book.update_id,
        )
        assert int(row["ts_event"].timestamp() * 1000) == book.ts_event
        assert round(row["ts_recv"].timestamp() * 1000) == book.ts_recv
        assert row["bid_prices"] == [decimal_of(p) for p, _ in bids]
        assert row["bid_qtys"] == [decimal_of(q) for _, q in bids]
        assert row["ask_prices"] == [decimal_of(p) for p, _ in asks]
        assert row["ask_qtys"] == [decimal_of(q) for _, q in asks]
        assert row["bid_price"] == (decimal_of(bids[0][0]) if bids else None)
        assert row["bid_qty"] == (decimal_of(bids[0][1]) if bids else None)
        assert row["ask_price"] == (decimal_of(asks[0][0]) if asks else None)
        assert row["ask_qty"] == (decimal_of(asks[0][1]) if asks else None)


def test_trade_batch_has_one_row_per_trade_with_its_second():
    per_second = {
        100: (Trade(1, 5, 7, 100_001, True), Trade(2, MAX_INT64, 1, 100_999, False)),
        101: (),
        102: (Trade(3, 123456789, 10**8, 102_500, False),),
    }
    records = [SecondTrades("ETHUSDT", second, trades) for second, trades in per_second.items()]

    values = [encode(record) for record in records]
    parts = [flatten_trades("ETHUSDT", values[:1]), flatten_trades("ETHUSDT", values[1:])]
    batch = build_trade_batch("ETHUSDT", parts)

    assert batch.schema == TRADE_SCHEMA
    expected = [
        (second, t.agg_id, decimal_of(t.price), decimal_of(t.qty), t.ts_trade, t.buyer_maker)
        for second, trades in per_second.items()
        for t in trades
    ]
    got = [
        (
            r["second"],
            r["agg_id"],
            r["price"],
            r["qty"],
            round(r["ts_trade"].timestamp() * 1000),
            r["buyer_maker"],
        )
        for r in batch.to_pylist()
    ]
    assert got == expected
    assert set(batch.column("symbol").to_pylist()) == {"ETHUSDT"}


def test_empty_batches_keep_the_schema():
    assert book_batch("BTCUSDT", []).num_rows == 0
    assert build_trade_batch("BTCUSDT", []).num_rows == 0
    assert build_trade_batch("BTCUSDT", [flatten_trades("BTCUSDT", [])]).num_rows == 0
    assert pa.Table.from_batches([book_batch("X1", [])]).schema == BOOK_SCHEMA


def test_a_book_of_another_symbol_is_refused():
    book = random_book(random.Random(3), 1_700_000_000, 2, 2)
    with pytest.raises(DecodeError, match="stored under ETHUSDT"):
        book_batch("ETHUSDT", [encode(book)])
