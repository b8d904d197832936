"""``Volume.add_columns`` (numpy, per distinct price) sums exactly what ``add_trades`` sums."""

from __future__ import annotations

import random

import numpy as np
import pytest

from shared.volume import Volume

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
