"""``Volume.add_columns`` (numpy, per distinct price) sums exactly what ``add_trades`` sums."""

from __future__ import annotations

import random

import numpy as np
import pytest

from shared.volume import Volume
from tests.reference.profile import price_rows

MAX_INT64 = 2**63 - 1


def columns(rng: random.Random, count: int, big: bool) -> tuple[list[int], list[int], list[bool]]:
    prices = [rng.choice([1, 2, 3, 10**12, MAX_INT64]) + rng.randrange(50) for _ in range(count)]
    top = MAX_INT64 if big else 10**9
    qtys = [rng.randint(1, top) for _ in range(count)]
    return [min(p, MAX_INT64) for p in prices], qtys, [rng.random() < 0.5 for _ in range(count)]


@pytest.mark.parametrize("seed", range(20))
def test_columns_sum_as_the_trades_do(seed):
    rng = random.Random(seed)
    start = Volume()
    if seed % 2:  # else a fresh aggregate
        start.add_trades(*columns(rng, 30, big=False))
    prices, qtys, makers = columns(rng, rng.choice([0, 1, 5, 300]), big=seed % 3 == 0)
    expected = Volume(dict(start.qty), dict(start.count), dict(start.buy))
    got = Volume(dict(start.qty), dict(start.count), dict(start.buy))

    expected.add_trades(prices, qtys, makers)
    got.add_columns(
        np.array(prices, dtype=np.int64),
        np.array(qtys, dtype=np.int64),
        np.array(makers, dtype=np.int64),
    )

    assert (got.qty, dict(got.count), got.buy) == (expected.qty, dict(expected.count), expected.buy)
    assert all(type(k) is int and type(v) is int for k, v in got.qty.items())
    if seed % 3:  # (sums above 2**64 are beyond any stored layout; the dicts are compared above)
        assert got.encode() == expected.encode()


def _as_arrays(part: list[tuple[int, int, bool]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    prices, qtys, makers = zip(*part, strict=True)
    return (
        np.array(prices, dtype=np.int64),
        np.array(qtys, dtype=np.int64),
        np.array(makers, dtype=np.int64),
    )


@pytest.mark.parametrize("seed", range(40))
def test_parts_added_any_way_sum_as_the_definition(seed):
    """Columns form (parts summed late), maps form and stored values mixed: one set of sums."""
    rng = random.Random(seed)
    big = seed % 5 == 0  # quantities near int64: sums leave int64 and must stay exact
    volume, trades = Volume(), []
    for _ in range(rng.randint(1, 12)):
        prices, qtys, makers = columns(rng, rng.choice([1, 3, 40, 200]), big=big)
        part = list(zip(prices, qtys, makers, strict=True))
        trades += part
        how = rng.choice(["columns", "volume", "stored", "maps", "read"])
        if how == "columns":
            volume.add_columns(*_as_arrays(part))
        elif how == "volume":
            volume.add(Volume.of_columns(*_as_arrays(part)))
        elif how == "stored":
            alone = Volume.of_columns(*_as_arrays(part))
            value = alone.encode()
            volume.add(alone if value is None else Volume.decode(value))
        elif how == "maps":
            volume.add(Volume.of_trades(prices, qtys, makers))
        else:  # a read in between (sums the parts so far, or leaves the columns form)
            volume.add_columns(*_as_arrays(part))
            assert volume.rows() == price_rows(trades)
    expected = price_rows(trades)
    assert volume.rows() == expected
    stored = volume.encode()
    fits = all(-(2**63) <= value < 2**64 for row in expected for value in row)
    assert (stored is not None) == fits  # no value can hold a sum beyond msgpack's integers
    if stored is not None:
        assert Volume.decode(stored).rows() == expected
    assert all(type(value) is int for row in volume.rows() for value in row)
