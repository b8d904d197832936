"""shared.volume.Volume: exact per-price sums, and the stored value of an aggregate."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import DecodeError
from shared.volume import PackedColumns, Volume, unpack_aggregate
from tests.reference.profile import price_rows

trades = st.lists(st.tuples(st.integers(1, 8), st.integers(1, 10**12), st.booleans()), max_size=60)


def volume(items: list[tuple[int, int, bool]]) -> Volume:
    return Volume.of_trades([t[0] for t in items], [t[1] for t in items], [t[2] for t in items])


@given(trades)
def test_trades_are_summed_per_price_repeats_included(items):
    assert volume(items).rows() == price_rows(items)


@given(trades, trades)
def test_merging_equals_aggregating_everything(a, b):
    merged = volume(a)
    merged.add(volume(b))
    assert merged.rows() == price_rows(a + b)


@given(trades, trades, trades)
def test_replacing_a_part_by_its_difference_is_exact(rest, old, new):
    total = volume(rest + old)
    change = volume(new)
    change.add(volume(old), -1, prune=False)
    total.add(change)
    assert total.rows() == price_rows(rest + new)
    assert all(total.count.values())  # prices left without trades are gone


@given(trades)
def test_encode_decode_round_trip(items):
    stored = volume(items)
    assert Volume.decode(stored.encode()).rows() == stored.rows()
    assert Volume.decode(stored.encode()).rows() == price_rows(items)


@given(trades)
def test_stored_values_are_packed_ascending_int64_columns(items):
    stored = volume(items)
    packed = unpack_aggregate(stored.encode())
    assert isinstance(packed, PackedColumns)
    rows = stored.rows()
    assert packed.prices.tolist() == [r[0] for r in rows]
    assert list(zip(*(c.tolist() for c in packed), strict=True)) == [
        (p, q, n, b) for p, q, n, b in rows
    ]


@given(trades)
def test_map_values_of_earlier_writers_still_decode(items):
    stored = volume(items)
    assert isinstance(unpack_aggregate(stored.encode_maps()), Volume)
    assert Volume.decode(stored.encode_maps()).rows() == price_rows(items)


def test_values_beyond_int64_are_kept_as_exact_maps():
    huge = volume([(5, 2**62, False), (5, 2**62, True), (7, 1, True)])
    value = huge.encode()
    assert msgpack.unpackb(value, strict_map_key=False)["v"] == 1
    assert Volume.decode(value).rows() == [(5, 2**63, 2, 2**62), (7, 1, 1, 0)]


@pytest.mark.parametrize(
    ("record", "error"),
    [
        ({"v": 2, "p": b"\0" * 8, "q": b"\0" * 8, "n": b"\0" * 8}, "unreadable"),
        ({"v": 2, "p": b"\0" * 8, "q": b"\0" * 16, "n": b"\0" * 8, "b": b"\0" * 8}, "lengths"),
        ({"v": 2, "p": b"\0" * 7, "q": b"\0" * 7, "n": b"\0" * 7, "b": b"\0" * 7}, "lengths"),
        ({"v": 2, "p": [1], "q": [1], "n": [1], "b": [0]}, "bin"),
        ({"v": 2, **dict.fromkeys("pqnb", (2).to_bytes(8, "little") * 2)}, "ascending"),
        ({"v": 3, "q": {}, "n": {}, "b": {}}, "version 1 or 2"),
        ({"v": 1, "q": [], "n": {}, "b": {}}, "version 1 or 2"),
    ],
)
def test_malformed_aggregates_are_refused(record, error):
    with pytest.raises(DecodeError, match=error):
        unpack_aggregate(msgpack.packb(record, use_bin_type=True))
    with pytest.raises(DecodeError, match="unreadable volume"):
        unpack_aggregate(b"\xc1")
