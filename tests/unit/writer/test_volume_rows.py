"""shared.volume.Volume: exact per-price sums built with C-level dict updates."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.volume import Volume

trades = st.lists(st.tuples(st.integers(1, 8), st.integers(1, 10**12), st.booleans()), max_size=60)


def naive(items: list[tuple[int, int, bool]]) -> list[tuple[int, int, int, int]]:
    rows: dict[int, list[int]] = {}
    for price, qty, maker in items:
        row = rows.setdefault(price, [0, 0, 0])
        row[0] += qty
        row[1] += 1
        row[2] += 0 if maker else qty
    return [(p, q, n, b) for p, (q, n, b) in sorted(rows.items())]


def volume(items: list[tuple[int, int, bool]]) -> Volume:
    return Volume.of_trades([t[0] for t in items], [t[1] for t in items], [t[2] for t in items])


@given(trades)
def test_trades_are_summed_per_price_repeats_included(items):
    assert volume(items).rows() == naive(items)


@given(trades, trades)
def test_merging_equals_aggregating_everything(a, b):
    merged = volume(a)
    merged.add(volume(b))
    assert merged.rows() == naive(a + b)


@given(trades, trades, trades)
def test_replacing_a_part_by_its_difference_is_exact(rest, old, new):
    total = volume(rest + old)
    change = volume(new)
    change.add(volume(old), -1, prune=False)
    total.add(change)
    assert total.rows() == naive(rest + new)
    assert all(total.count.values())  # prices left without trades are gone


@given(trades)
def test_encode_decode_round_trip(items):
    stored = volume(items)
    assert Volume.decode(stored.encode()).rows() == stored.rows()
    assert Volume.decode(stored.encode()).rows() == naive(items)
