"""Synthetic markets for health and anomaly tests: a calm book, and ways to disturb it."""

from __future__ import annotations

import random
from collections.abc import Callable

import msgspec

from shared.model import BookSnapshot, Trade

TICK = 1_000_000  # 0.01
UNIT = 100_000_000  # 1.0
MID_TICKS = 10_000  # 100.00


def calm_market(
    rng: random.Random,
    start: int,
    seconds: int,
    *,
    levels: int = 20,
    rate: int = 100,
    trades_per_second: int = 3,
    drift: bool = True,
    tweak: Callable[[int, list, list], None] | None = None,
) -> tuple[list[BookSnapshot], list[Trade]]:
    """A two-sided book a tick wide with sizes jittering +-10%, steady updates, small trades.

    ``tweak(second, bids, asks)`` may edit the level lists of a second in place.
    """
    snaps: list[BookSnapshot] = []
    trades: list[Trade] = []
    mid = MID_TICKS
    update_id = 1_000_000
    trade_id = 1
    base = [UNIT * (1 + (i % 3)) for i in range(levels)]
    for second in range(start, start + seconds):
        if drift and rng.random() < 0.2:
            mid += rng.choice((-1, 1))
        bids = [[(mid - i) * TICK, int(q * rng.uniform(0.9, 1.1))] for i, q in enumerate(base)]
        asks = [[(mid + 1 + i) * TICK, int(q * rng.uniform(0.9, 1.1))] for i, q in enumerate(base)]
        if tweak is not None:
            tweak(second, bids, asks)
        update_id += int(rate * rng.uniform(0.9, 1.1))
        for _ in range(trades_per_second):
            sell = rng.random() < 0.5
            price = bids[0][0] if sell else asks[0][0]
            trades.append(
                Trade(trade_id, price, UNIT // 20, second * 1000 + rng.randrange(1000), sell)
            )
            trade_id += 1
        snaps.append(
            BookSnapshot(
                symbol="TESTUSDT",
                second=second,
                session=1,
                seq=second - start + 1,
                update_id=update_id,
                ts_event=second * 1000 + 900,
                ts_recv=second * 1000 + 950,
                bids=tuple((p, q) for p, q in bids if q > 0),
                asks=tuple((p, q) for p, q in asks if q > 0),
            )
        )
    return snaps, trades


def bursty(
    start: int, seed: int = 7, trades_too: bool = False
) -> tuple[list[BookSnapshot], list[Trade]]:
    """Calm books whose exchange updates come in bursts: every 10th second 300 ids, else 1.

    The window's seconds are a shuffle of the same 10-second pattern as its baseline, so the
    window is drawn from its baseline's own distribution (equal mean, equal median).
    """
    rng = random.Random(seed)
    snaps, trades = calm_market(rng, start, 660)
    pattern = [300] + [1] * 9
    deltas = pattern * 60
    for _ in range(6):
        window_block = pattern[:]
        rng.shuffle(window_block)
        deltas += window_block
    update_id, out = 1_000_000, []

    for s, delta in zip(snaps, deltas, strict=True):
        update_id += delta
        out.append(msgspec.structs.replace(s, update_id=update_id))
    return out, trades if trades_too else []
