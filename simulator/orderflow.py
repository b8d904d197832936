"""Order-flow regimes of the synthetic market, and the random draws it needs."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rates:
    """Expected numbers per second of each kind of order."""

    adds: float = 55.0
    cancels: float = 45.0
    takers: float = 6.0
    size: float = 1.0  # multiplies order sizes
    vol: float = 1.0  # multiplies the fair price's volatility


NORMAL = Rates()
BURST = Rates(adds=140.0, cancels=120.0, takers=30.0, size=2.5, vol=2.5)
THIN = Rates(adds=20.0, cancels=60.0, takers=6.0, size=1.0, vol=1.0)


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; the means here are small (under ~15)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def split_qty(rng: random.Random, total: int, step: int, parts: int) -> list[int]:
    """Split a quantity into up to ``parts`` positive multiples of ``step``."""
    if parts <= 1 or total < step * parts:
        return [total]
    cuts = sorted(rng.randrange(1, total // step) * step for _ in range(parts - 1))
    pieces = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=False) if b > a]
    return pieces or [total]


def scaled(rates: Rates, activity: float) -> Rates:
    """The same regime for a symbol ``activity`` times as busy (1.0: unchanged)."""
    if activity >= 1.0:
        return rates
    return Rates(
        adds=rates.adds * activity,
        cancels=rates.cancels * activity,
        takers=rates.takers * activity,
        size=rates.size,
        vol=rates.vol * activity,
    )


def zipf_activity(count: int, exponent: float) -> list[float]:
    """Activity of the symbols ranked 1..count: ``1 / rank ** exponent`` (0: all equally busy)."""
    return [1.0 / rank**exponent for rank in range(1, count + 1)]
