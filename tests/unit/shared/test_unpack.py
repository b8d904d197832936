"""Columnar unpacking reads exactly what msgspec's typed decode reads, and refuses what it refuses.

The reference for every array is msgspec decoding it into the record's own types
(``shared.model.Levels`` / ``Trades``) and plain Python slicing: no booksnap decoding code.
"""

from __future__ import annotations

import random

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booksnap.flat import LEVEL_KINDS, TRADE_KINDS, _levels, _trades, flatten_trades
from shared.codec import encode
from shared.envelope import locate, trades_layout
from shared.errors import DecodeError
from shared.model import MAX_LEVELS, MAX_TRADES, Levels, SecondTrades, Trade, Trades
from shared.unpack import unpack

MAX_INT64 = 2**63 - 1


def any_uint(rng: random.Random, low: int = 1) -> int:
    """An int of every MessagePack width: fixint, uint8, uint16, uint32, uint64."""
    ranges = [(low, 127), (128, 255), (256, 65_535), (65_536, 2**32 - 1), (2**32, MAX_INT64)]
    return rng.randint(*rng.choice(ranges))


def reference_levels(raw: bytes) -> list[tuple[int, ...]]:
    return [tuple(level) for level in msgspec.msgpack.decode(raw, type=Levels)]


def reference_trades(raw: bytes) -> list[tuple[int, ...]]:
    return [msgspec.structs.astuple(t) for t in msgspec.msgpack.decode(raw, type=Trades)]


def unpack_levels(raws: list[bytes], limit: int | None = None) -> list[list[tuple[int, ...]]]:
    lengths, pairs = unpack(raws, LEVEL_KINDS, MAX_LEVELS, _levels, limit=limit)
    rows = list(map(tuple, pairs.tolist()))
    ends = np.cumsum(lengths).tolist()
    return [rows[end - n : end] for n, end in zip(lengths.tolist(), ends, strict=True)]


def random_sides(rng: random.Random, count: int) -> list[list[tuple[int, int]]]:
    lengths = [0, 1, 2, 15, 16, 20, 100, rng.randint(0, 400)]
    return [
        [(any_uint(rng), any_uint(rng)) for _ in range(rng.choice(lengths))] for _ in range(count)
    ]


@pytest.mark.parametrize("seed", range(40))
def test_levels_equal_the_typed_decode_for_every_width_and_limit(seed):
    rng = random.Random(seed)
    sides = random_sides(rng, rng.randint(0, 80))
    if seed % 10 == 0:  # one deep book among shallow ones: handed to the typed decode whole
        sides.append([(any_uint(rng), any_uint(rng)) for _ in range(MAX_LEVELS)])
    raws = [msgspec.msgpack.encode(side) for side in sides]
    limit = rng.choice([None, None, 1, 5, 20])

    got = unpack_levels(raws, limit)

    assert got == [reference_levels(raw)[:limit] for raw in raws]


@pytest.mark.parametrize("seed", range(20))
def test_trades_equal_the_typed_decode(seed):
    rng = random.Random(seed)
    per_second = [
        [
            Trade(
                any_uint(rng, 0), any_uint(rng), any_uint(rng), any_uint(rng, 0), rng.random() < 0.5
            )
            for _ in range(rng.choice([0, 1, 3, 16, 30, rng.randint(0, 600)]))
        ]
        for _ in range(rng.randint(0, 120))
    ]
    raws = [msgspec.msgpack.encode(trades) for trades in per_second]

    counts, fields = unpack(raws, TRADE_KINDS, MAX_TRADES, _trades)

    assert counts.tolist() == [len(trades) for trades in per_second]
    assert [tuple(row) for row in fields.tolist()] == [
        tuple(int(v) for v in fields_of) for raw in raws for fields_of in reference_trades(raw)
    ]


def test_other_valid_encodings_are_read_like_the_typed_decode():
    # msgspec writes positive ints unsigned, but int8..int64 and array16 are valid MessagePack too.
    signed = b"\x92\xd3" + (5).to_bytes(8, "big", signed=True) + b"\xd0\x07"
    array16 = b"\xdc\x00\x02" + b"\x92\x01\x02" + b"\x92\x03\x04"
    raws = [b"\x91" + signed, array16] + [msgspec.msgpack.encode([(9, 9)] * 3)] * 20

    assert unpack_levels(raws) == [reference_levels(raw) for raw in raws]


@pytest.mark.parametrize(
    "raw",
    [
        msgspec.msgpack.encode([(0, 1)]),  # a price of 0
        msgspec.msgpack.encode([(1, 2**63)]),  # above MAX_INT64
        msgspec.msgpack.encode([(1, -3)]),  # negative
        msgspec.msgpack.encode([(1, 2.5)]),  # a float
        msgspec.msgpack.encode([(1, 2, 3)]),  # three fields
        msgspec.msgpack.encode([(1, 1)] * (MAX_LEVELS + 1)),  # too many levels
        msgspec.msgpack.encode([(1, 1)])[:-1],  # cut short
        b"\xdd\xff\xff\xff\xff",  # array32 claiming 4 billion levels
    ],
)
def test_values_the_schema_refuses_raise_decode_error(raw):
    good = [msgspec.msgpack.encode([(7, 7)] * 20)] * 30  # enough arrays for the steps to run
    with pytest.raises(DecodeError):
        unpack_levels([*good[:10], raw, *good[10:]])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_mutated_array_reads_as_the_typed_decode_or_raises(data):
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    sides = random_sides(rng, 24)
    raws = [msgspec.msgpack.encode(side) for side in sides]
    victim = data.draw(st.integers(0, len(raws) - 1))
    mutated = bytearray(raws[victim])
    for _ in range(data.draw(st.integers(1, 4))):
        if mutated:
            at = data.draw(st.integers(0, len(mutated) - 1))
            mutated[at] = data.draw(st.integers(0, 255))
    raws[victim] = bytes(mutated)
    try:
        expected = [reference_levels(raw) for raw in raws]
    except (msgspec.DecodeError, msgspec.ValidationError):
        with pytest.raises(DecodeError):
            unpack_levels(raws)
    else:
        assert unpack_levels(raws) == expected


def test_trades_records_are_located_as_msgspec_writes_them():
    records = [
        SecondTrades("BTCUSDT", 1_000 + i**3, tuple(Trade(i, 5, 6, 7, True) for _ in range(i % 4)))
        for i in range(50)
    ]
    values = [encode(record) for record in records]

    found = locate(trades_layout("BTCUSDT", TRADE_KINDS), values)

    assert found is not None
    assert found.scalars["second"].tolist() == [record.second for record in records]
    starts, ends = found.spans["trades"]
    for i, record in enumerate(records):
        array = found.scan.joined[starts[i] : ends[i]]
        assert msgspec.msgpack.decode(array, type=Trades) == record.trades


def test_a_run_with_a_record_written_otherwise_is_read_by_the_schema():
    records = [SecondTrades("BTCUSDT", 1_000 + i, (Trade(i, 5, 6, 7, False),)) for i in range(30)]
    values = [encode(record) for record in records]
    # Valid, but not as msgspec writes it: keys in another order.
    values[10] = msgspec.msgpack.encode(
        {"tr": [[10, 5, 6, 7, False]], "v": 1, "sec": 1_010, "sym": "BTCUSDT"}
    )

    assert locate(trades_layout("BTCUSDT", TRADE_KINDS), values) is None
    flat = flatten_trades("BTCUSDT", values)
    assert flat.rows == 30
    assert flat.ints[0].tolist() == [record.second for record in records]
    assert flat.ints[1].tolist() == list(range(30))


def test_a_corrupt_trades_record_raises_decode_error():
    values = [encode(SecondTrades("BTCUSDT", 1_700_000_000 + i, ())) for i in range(20)]
    values[5] = values[5][:-1]  # the version cut off
    with pytest.raises(DecodeError):
        flatten_trades("BTCUSDT", values)


def test_a_day_sized_run_reads_like_the_typed_decode():
    # numpy returns big-endian results for large gathers: a run of realistic size must be exact.
    rng = random.Random(11)
    sides = [
        [(6 * 10**12 - i * 10**6 + rng.randint(0, 9), any_uint(rng)) for i in range(20)]
        for _ in range(3_600)
    ]
    raws = [msgspec.msgpack.encode(side) for side in sides]
    raws[1_234] = msgspec.msgpack.encode([(1, 2**63)])  # out of range, inside a large run

    with pytest.raises(DecodeError):
        unpack_levels(raws)
    raws[1_234] = raws[0]
    assert unpack_levels(raws) == [reference_levels(raw) for raw in raws]
