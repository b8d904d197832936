"""Random markets for the reference comparisons: books, trades, gaps, duplicates, crossed books.

A hypothesis-drawn seed and shape drive ``random.Random``, so books of 5,000 levels cost no
hypothesis draws per level. Prices from 0.00000001-tick coins (0.00001234) to 8-figure prices.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from hypothesis import strategies as st

from shared.model import BookSnapshot, LiveBook, Trade

TICKS = (1, 100, 1_000_000, 100_000_000)  # 0.00000001, 0.000001, 0.01, 1
START = 10_000  # first window second of every generated market


@dataclass(frozen=True)
class Shape:
    seed: int
    seconds: int
    depth: int  # levels per side the "collector" stores
    tick: int
    base_ticks: int  # the mid, in ticks
    gaps: float  # probability that a second has no record
    duplicates: float  # probability of a second record (other session) for a second
    odd: float  # probability of a one-sided or crossed book
    trades: int
    huge_qty: bool


def shapes(
    depths: st.SearchStrategy[int] | None = None,
    seconds: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[Shape]:
    """Market shapes; ``depths`` defaults to 1..50 stored levels (5,000 in its own test)."""
    return st.builds(
        Shape,
        seed=st.integers(0, 2**32),
        seconds=st.integers(3, 14) if seconds is None else seconds,
        depth=st.sampled_from([1, 2, 3, 5, 20, 20, 20, 50]) if depths is None else depths,
        tick=st.sampled_from(TICKS),
        base_ticks=st.sampled_from([1_234, 60_000, 6_000_000, 10**10 // 3]),
        gaps=st.sampled_from([0.0, 0.0, 0.1, 0.3]),
        duplicates=st.sampled_from([0.0, 0.0, 0.2]),
        odd=st.sampled_from([0.0, 0.0, 0.1]),
        trades=st.integers(0, 60),
        huge_qty=st.booleans(),
    )


def side(rng: random.Random, best: int, step: int, count: int, qty_max: int) -> tuple:
    levels = []
    price = best
    for _ in range(count):
        if price <= 0:
            break
        levels.append((price, rng.randint(1, qty_max)))
        price += step * rng.choice((1, 1, 1, 2, 3))
    return tuple(levels)


def book_sides(rng: random.Random, shape: Shape, mid: int) -> tuple[tuple, tuple]:
    t = shape.tick
    qty_max = 10**15 if shape.huge_qty else 10**9
    spread = rng.choice((1, 1, 2, 3))
    best_bid = max(1, mid - spread // 2) * t
    best_ask = best_bid + spread * t
    n_bid = shape.depth if rng.random() > 0.2 else rng.randint(1, shape.depth)
    n_ask = shape.depth if rng.random() > 0.2 else rng.randint(1, shape.depth)
    bids = side(rng, best_bid, -t, n_bid, qty_max)
    asks = side(rng, best_ask, t, n_ask, qty_max)
    if rng.random() < shape.odd:
        which = rng.choice(("no bids", "no asks", "crossed"))
        if which == "no bids":
            bids = ()
        elif which == "no asks":
            asks = ()
        else:
            asks = ((best_bid - t, 1), *asks[1:]) if best_bid > t else asks
    return bids, asks


def market(shape: Shape) -> tuple[list[BookSnapshot], list[Trade]]:
    """Snapshots of seconds START-1 .. START+seconds-1 and trades around them."""
    rng = random.Random(shape.seed)
    mid = shape.base_ticks
    update_id = 1_000
    snaps: list[BookSnapshot] = []
    seq = 0
    for second in range(START - 1, START + shape.seconds):
        mid = max(3, mid + rng.choice((-2, -1, 0, 0, 0, 1, 2)))
        update_id += rng.choice((0, 1, 3, 10, 100, 2000))
        if rng.random() < shape.gaps:
            continue
        for session in (1, 2) if rng.random() < shape.duplicates else (1,):
            seq += 1
            bids, asks = book_sides(rng, shape, mid)
            event = second * 1000 + rng.randint(0, 999) + (rng.random() < 0.1) * 150
            snaps.append(
                BookSnapshot("TESTUSDT", second, session, seq, update_id, event, event, bids, asks)
            )
    rng.shuffle(snaps)  # tools must not depend on input order
    trades = []
    for n in range(shape.trades * max(1, shape.seconds // 10)):
        second = rng.randint(START - 2, START + shape.seconds)
        price = max(1, mid + rng.randint(-6, 6)) * shape.tick
        qty = rng.randint(1, 10**15 if shape.huge_qty else 10**9)
        trades.append(
            Trade(n + 1, price, qty, second * 1000 + rng.randint(0, 999), rng.random() < 0.5)
        )
    return snaps, trades


def live_book(shape: Shape) -> LiveBook:
    rng = random.Random(shape.seed)
    bids, asks = book_sides(rng, shape, shape.base_ticks)
    return LiveBook("TESTUSDT", 1, 1, 7, 1_000_000, 1_000_050, bids, asks)
