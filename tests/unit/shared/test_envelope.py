"""A run of stored records taken apart at once reads exactly what the schema decodes.

The reference is msgspec decoding each record into ``shared.model``'s own structs: no booksnap
reading code. A record off the fast path sends its run through the schema, which reads it or
raises ``DecodeError``.
"""

from __future__ import annotations

import random

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booksnap.flat import BOOK_FIELDS, LEVEL_KINDS, TRADE_KINDS, flatten, flatten_trades
from shared.codec import encode
from shared.envelope import book_layout, locate, trades_layout
from shared.errors import DecodeError
from shared.model import BookSnapshot, SecondTrades, Trade

MAX_INT64 = 2**63 - 1


def any_uint(rng: random.Random, low: int = 0) -> int:
    ranges = [(low, 127), (128, 255), (256, 65_535), (65_536, 2**32 - 1), (2**32, MAX_INT64)]
    return rng.randint(*rng.choice(ranges))


def random_book(rng: random.Random, symbol: str = "BTCUSDT") -> BookSnapshot:
    def side() -> tuple[tuple[int, int], ...]:
        depth = rng.choice([0, 1, 5, 20, 20, 20, 100])
        return tuple((any_uint(rng, 1), any_uint(rng, 1)) for _ in range(depth))

    second, session, seq, uid, event, recv = (any_uint(rng) for _ in range(6))
    return BookSnapshot(symbol, second, session, seq, uid, event, recv, side(), side())


def expected_books(values: list[bytes], levels: int | None = None) -> list[tuple]:
    books = [msgspec.msgpack.decode(v, type=BookSnapshot) for v in values]
    return [
        (*(getattr(b, name) for name in BOOK_FIELDS), b.bids[:levels], b.asks[:levels])
        for b in books
    ]


def rows_of(values: list[bytes], levels: int | None = None) -> list[tuple]:
    flat = flatten("BTCUSDT", values, levels)
    rows, bid_at, ask_at = [], 0, 0
    for i in range(flat.rows):
        nb, na = int(flat.bid_lengths[i]), int(flat.ask_lengths[i])
        bids = tuple(map(tuple, flat.bids[bid_at : bid_at + nb].tolist()))
        asks = tuple(map(tuple, flat.asks[ask_at : ask_at + na].tolist()))
        rows.append((*flat.scalars[:, i].tolist(), bids, asks))
        bid_at, ask_at = bid_at + nb, ask_at + na
    return rows


@pytest.mark.parametrize("seed", range(15))
def test_books_read_as_the_schema_decodes_them(seed):
    rng = random.Random(seed)
    values = [encode(random_book(rng)) for _ in range(rng.randint(0, 300))]
    levels = rng.choice([None, None, 1, 10])

    assert locate(book_layout("BTCUSDT", LEVEL_KINDS), values) is not None
    assert rows_of(values, levels) == expected_books(values, levels)


def test_a_book_written_otherwise_sends_its_run_through_the_schema():
    rng = random.Random(5)
    values = [encode(random_book(rng)) for _ in range(40)]
    book = msgspec.msgpack.decode(values[7], type=BookSnapshot)
    as_map = msgspec.to_builtins(book)
    values[7] = msgspec.msgpack.encode(dict(reversed(as_map.items())))  # keys reordered

    assert locate(book_layout("BTCUSDT", LEVEL_KINDS), values) is None
    assert rows_of(values) == expected_books(values)


def test_a_book_of_another_symbol_raises():
    rng = random.Random(6)
    values = [encode(random_book(rng)) for _ in range(10)] + [encode(random_book(rng, "ETHUSDT"))]
    with pytest.raises(DecodeError, match="stored under BTCUSDT"):
        flatten("BTCUSDT", values)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_mutated_book_reads_as_the_schema_or_raises(data):
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    values = [encode(random_book(rng)) for _ in range(12)]
    victim = data.draw(st.integers(0, len(values) - 1))
    mutated = bytearray(values[victim])
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(mutated) - 1))
        mutated[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        del mutated[data.draw(st.integers(0, len(mutated) - 1)) :]  # or cut short
    values[victim] = bytes(mutated)
    try:
        expected = expected_books(values)
        symbols = {msgspec.msgpack.decode(v, type=BookSnapshot).symbol for v in values}
    except (msgspec.DecodeError, msgspec.ValidationError):
        with pytest.raises(DecodeError):
            flatten("BTCUSDT", values)
        return
    if symbols != {"BTCUSDT"}:
        with pytest.raises(DecodeError):
            flatten("BTCUSDT", values)
    else:
        assert rows_of(values) == expected


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_mutated_trades_record_reads_as_the_schema_or_raises(data):
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    records = [
        SecondTrades(
            "BTCUSDT",
            any_uint(rng),
            tuple(
                Trade(any_uint(rng), any_uint(rng, 1), any_uint(rng, 1), any_uint(rng), True)
                for _ in range(rng.choice([0, 1, 3, 40]))
            ),
        )
        for _ in range(12)
    ]
    values = [encode(record) for record in records]
    victim = data.draw(st.integers(0, len(values) - 1))
    mutated = bytearray(values[victim])
    at = data.draw(st.integers(0, len(mutated) - 1))
    mutated[at] = data.draw(st.integers(0, 255))
    values[victim] = bytes(mutated)
    try:
        decoded = [msgspec.msgpack.decode(v, type=SecondTrades) for v in values]
    except (msgspec.DecodeError, msgspec.ValidationError):
        decoded = []
    if not decoded or {r.symbol for r in decoded} != {"BTCUSDT"}:
        with pytest.raises(DecodeError):
            flatten_trades("BTCUSDT", values)
        return
    flat = flatten_trades("BTCUSDT", values)
    assert flat.ints[0].tolist() == [r.second for r in decoded for _ in r.trades]
    assert flat.ints[1:].T.tolist() == [
        [t.agg_id, t.price, t.qty, t.ts_trade] for r in decoded for t in r.trades
    ]
    assert flat.makers.tolist() == [t.buyer_maker for r in decoded for t in r.trades]


def test_layouts_follow_the_schema():
    # Built from msgspec's own encoding and checked against a probe at build time.
    assert [f.name for f in book_layout("X1", LEVEL_KINDS).fields] == [
        "symbol", "second", "session", "seq", "update_id", "ts_event", "ts_recv",
        "bids", "asks", "version",
    ]  # fmt: skip
    assert [f.name for f in trades_layout("X1", TRADE_KINDS).fields] == [
        "symbol", "second", "trades", "version",
    ]  # fmt: skip
