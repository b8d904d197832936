"""Spoofing-like behaviour: large near-touch orders that appear and vanish untraded.

One record per side summarises the events of the window. An order that vanishes because it was
moved (the same size re-appears at another price of the same side in the same second, as pegged
market-maker quotes do every time the touch moves) is a re-quote, not a cancel, and is ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import fmean

from query.analytics.flow import traded_per_side
from query.analytics.measures import BPS, clamp, safe_median
from query.analytics.signals import MAX_REPORTED_PER_TYPE, Context, anomaly, level_map
from query.analytics.window import two_sided
from shared.fixedpoint import SCALE
from shared.model import BookSnapshot, Level

SPOOF_SIZE_MULTIPLE = 10.0  # an order adding >= 10x the median level size ...
SPOOF_MAX_BPS = 10.0  # ... within 10 bps of the touch ...
SPOOF_MAX_LIFE = 5  # ... gone again within 5 seconds ...
SPOOF_MAX_TRADED = 0.2  # ... with less than 20% of it traded at that price ...
SPOOF_GONE = 0.8  # ("gone": at least 80% of the added size left the level)
SPOOF_FULL_EVENTS = 10  # repetition part of the confidence reaches 1 at 10 events per side


@dataclass(frozen=True)
class Event:
    """One large order that appeared and vanished."""

    side: str
    price: int
    added: int
    multiple: float
    appeared: int
    vanished: int
    traded: int


def additions(levels: tuple[Level, ...], before: dict[int, int]) -> dict[int, int]:
    """price -> quantity added since the previous snapshot (positive changes only)."""
    return {p: q - before.get(p, 0) for p, q in levels if q > before.get(p, 0)}


def follow(side: str, price: int, base: int, added: int, ctx: Context, **at: int) -> Event | None:
    """The event if the added size left the level untraded and unmoved within the lifetime."""
    traded = 0
    snaps: dict[int, BookSnapshot] = ctx.snaps_by_second
    appeared, typical = at["appeared"], at["typical"]
    for second in range(appeared + 1, appeared + SPOOF_MAX_LIFE + 1):
        snap, prev = snaps.get(second), snaps.get(second - 1)
        if snap is None or prev is None:
            return None  # a gap: we cannot tell what happened
        levels = snap.bids if side == "bid" else snap.asks
        if not levels or (price < levels[-1][0] if side == "bid" else price > levels[-1][0]):
            return None  # scrolled out of view: not evidence of a cancel
        hit_bids, hit_asks = traded_per_side(ctx.trades_of.get(second, ()))
        traded += (hit_bids if side == "bid" else hit_asks).get(price, 0)
        if level_map(levels).get(price, 0) - base > (1.0 - SPOOF_GONE) * added:
            continue
        if traded >= SPOOF_MAX_TRADED * added:
            return None  # it traded: real liquidity
        old = level_map(prev.bids if side == "bid" else prev.asks)
        moved = any(
            q >= SPOOF_GONE * added for p, q in additions(levels, old).items() if p != price
        )
        if moved:
            return None  # re-quoted at another price
        return Event(side, price, added, added / typical, appeared, second, traded)
    return None


def find_events(ctx: Context, typical: float) -> list[Event]:
    """Every qualifying appear-and-vanish event of the window."""
    events = []
    for before, after in ctx.window_pairs:
        if not two_sided(after):
            continue
        mid = (after.bids[0][0] + after.asks[0][0]) / 2
        for side, old, new in (("bid", before.bids, after.bids), ("ask", before.asks, after.asks)):
            old_map = level_map(old)
            for price, added in additions(new, old_map).items():
                near = abs(price - new[0][0]) / mid * BPS <= SPOOF_MAX_BPS
                if not near or added < SPOOF_SIZE_MULTIPLE * typical:
                    continue
                base = old_map.get(price, 0)
                event = follow(
                    side, price, base, added, ctx, appeared=after.second, typical=int(typical)
                )
                if event is not None:
                    events.append(event)
    return events


def spoofing(symbol: str, ctx: Context) -> list[dict[str, object]]:
    """One SpoofingLike record per side with events, strongest first."""
    sizes = [q for s in (*ctx.baseline, *ctx.window) for side in (s.bids, s.asks) for _, q in side]
    typical = safe_median(sizes)
    if typical <= 0:
        return []
    events = find_events(ctx, typical)
    found = []
    for side in ("bid", "ask"):
        mine = sorted(
            (e for e in events if e.side == side), key=lambda e: (-e.added, e.appeared, e.price)
        )
        if not mine:
            continue
        size_part = clamp(math.log(mine[0].multiple / SPOOF_SIZE_MULTIPLE) / math.log(10.0))
        repeat_part = clamp(len(mine) / SPOOF_FULL_EVENTS)
        untraded = fmean(1.0 - e.traded / e.added for e in mine)
        confidence = clamp(untraded * (0.5 * size_part + 0.5 * repeat_part))
        top = mine[:MAX_REPORTED_PER_TYPE]
        found.append(
            anomaly(
                symbol,
                "SpoofingLike",
                confidence=confidence,
                second=top[0].appeared,
                prices=sorted({e.price for e in top}),
                action="Large near-touch orders appear and vanish untraded: distrust that depth.",
                evidence={
                    "side": side,
                    "events": len(mine),
                    "median_level_qty": typical / SCALE,
                    "largest": [
                        {
                            "price": e.price / SCALE,
                            "added_qty": e.added / SCALE,
                            "multiple_of_median_level": e.multiple,
                            "appeared_second": e.appeared,
                            "lifetime_seconds": e.vanished - e.appeared,
                            "traded_at_price": e.traded / SCALE,
                        }
                        for e in top
                    ],
                },
            )
        )
    return found
