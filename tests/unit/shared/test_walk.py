"""The compiled walk reads what msgspec's typed decode reads, and never a byte past an array's end.

The reference is msgspec decoding each array into plain Python values; the walk is given arrays
inside one buffer with valid bytes after them, so a read past an array's end would be seen.
"""

from __future__ import annotations

import msgspec
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.walk import AMOUNT, BOOL, UINT, headers, walk

MAX_INT64 = 2**63 - 1
TRADE = (UINT, AMOUNT, AMOUNT, UINT, BOOL)
KINDS = np.array(TRADE, dtype=np.int64)
value = {
    UINT: st.integers(0, MAX_INT64),
    AMOUNT: st.integers(1, MAX_INT64),
    BOOL: st.booleans(),
}
trades = st.lists(st.tuples(*(value[kind] for kind in TRADE)), max_size=40)


def read(buffer: bytes, starts: list[int], ends: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(the walk's end per array, the rows it read) of the arrays at starts..ends of buffer."""
    data = np.frombuffer(buffer, dtype=np.uint8)
    begin, stop = np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)
    count, first = headers(data, begin, stop, len(TRADE), 10_000)
    keep = np.maximum(count, 0)
    rows = np.zeros(len(starts), dtype=np.int64)
    np.cumsum(keep[:-1], out=rows[1:])
    out = np.full((int(keep.sum()), len(TRADE)), -1, dtype=np.int64)
    return walk(data, first, stop, count, rows, KINDS, out), out


@settings(max_examples=200, deadline=None)
@given(st.lists(trades, min_size=1, max_size=8))
def test_rows_equal_the_typed_decode(arrays):
    encoded = [msgspec.msgpack.encode(array) for array in arrays]
    ends = np.cumsum([len(e) for e in encoded]).tolist()
    starts = [end - len(e) for end, e in zip(ends, encoded, strict=True)]

    after, out = read(b"".join(encoded), starts, ends)

    assert after.tolist() == ends
    expected = [list(map(int, row)) for e in encoded for row in msgspec.msgpack.decode(e)]
    assert out.tolist() == expected


@settings(max_examples=200, deadline=None)
@given(trades.filter(bool), st.data())
def test_an_array_cut_short_is_not_read_past_its_end(array, data):
    whole = msgspec.msgpack.encode(array)
    cut = data.draw(st.integers(1, len(whole) - 1))
    # The bytes after the cut are the rest of the valid array: reading them would succeed.
    after, _ = read(whole, [0], [cut])
    assert after.tolist() == [-1]


@settings(max_examples=300, deadline=None)
@given(trades.filter(bool), st.data())
def test_a_mutated_array_is_read_as_the_typed_decode_reads_it_or_not_at_all(array, data):
    raw = bytearray(msgspec.msgpack.encode(array))
    raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))

    after, out = read(bytes(raw), [0], [len(raw)])

    # Not read (-1): the caller hands the array to the typed decode. Read: its first ``after``
    # bytes are one valid array of trades, as msgspec reads them, in range.
    if after[0] >= 0:
        read_part = bytes(raw[: after[0]])
        decoded = msgspec.msgpack.decode(read_part, type=list[tuple[int, int, int, int, bool]])
        assert out.tolist() == [list(map(int, row)) for row in decoded]
        assert all(row[1] > 0 and row[2] > 0 and min(row[0], row[3]) >= 0 for row in decoded)
