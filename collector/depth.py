"""How deep a REST snapshot must be, and which part of the book it vouches for. Pure.

A snapshot of ``limit`` levels holds every real level between its worst bid and its worst ask
(its *horizon*) as of ``lastUpdateId``; from then on every change at any price arrives as a
diff. So the book is exact at every price inside the horizon for as long as it stays in sync,
and unknown outside it: a level that was deeper than the snapshot and never changed since is
missing. (A side the snapshot returned whole, with fewer levels than asked for, has no edge.)

What the collector needs of a snapshot is therefore not a fixed 1,000 levels but a horizon wide
enough for the levels it publishes, for as long as the price wanders:

- A record (``levels`` a side) is captured only when all its levels lie inside the horizon;
  the live book shows only the levels inside it.
- When a margin of levels (half of those beyond a record's, at least ``2 x levels``) reaches
  past the horizon the book is *refreshed*: a new snapshot is synced beside the live book and
  replaces it once both are at the same update id, so no second is lost (``resync.py``).
- The first snapshot is the cheapest Binance limit (100 levels, weight 5); a symbol whose price
  moves far enough to need a refresh within ``ESCALATE_WITHIN`` of the last one asks for the
  next limit (500: 25, 1000: 50) from then on. Quiet pairs stay at 100; busy ones climb.

Measured on the real recordings (``python -m benchmarks.depth_need``): from a 500-level snapshot
the best 20 BTCUSDT levels already differ from the 1,000-level book's within 11 minutes;
ETHUSDT's best 100 never do from 200 levels on.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.model import Level

LIMITS = (100, 500, 1000, 5000)  # Binance's depth limits where the weight steps up
ESCALATE_WITHIN = 300.0  # s: a refresh needed sooner than this after the last asks for more
UNBOUNDED_ASK = 2**63


@dataclass(frozen=True, slots=True)
class Horizon:
    """The prices a snapshot vouches for: bids at or above ``bid``, asks at or below ``ask``."""

    bid: int = 0  # 0: every bid (the snapshot returned the whole side)
    ask: int = UNBOUNDED_ASK


def horizon_of(bids: list[Level], asks: list[Level], limit: int) -> Horizon:
    """The horizon of a snapshot asked for with ``limit`` (a side shorter than it is whole)."""
    return Horizon(
        bids[-1][0] if len(bids) >= limit and bids else 0,
        asks[-1][0] if len(asks) >= limit and asks else UNBOUNDED_ASK,
    )


def inside(worst_bid: int | None, worst_ask: int | None, horizon: Horizon) -> bool:
    """True when levels down to ``worst_bid`` and up to ``worst_ask`` (None: no level on that
    side) lie inside the horizon; the prices are ``OrderBook.last_of_top``'s."""
    return (worst_bid is None or worst_bid >= horizon.bid) and (
        worst_ask is None or worst_ask <= horizon.ask
    )


def clip(
    bids: tuple[Level, ...], asks: tuple[Level, ...], horizon: Horizon
) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
    """The levels (best first) inside the horizon: the exact part of a deeper view."""
    if bids and bids[-1][0] < horizon.bid:
        bids = tuple(level for level in bids if level[0] >= horizon.bid)
    if asks and asks[-1][0] > horizon.ask:
        asks = tuple(level for level in asks if level[0] <= horizon.ask)
    return bids, asks


def first_limit(levels: int, ceiling: int) -> int:
    """The cheapest Binance limit that covers twice the levels a record holds (and the ceiling)."""
    for limit in LIMITS:
        if limit >= 2 * levels:
            return min(limit, ceiling)
    return ceiling


def next_limit(limit: int, ceiling: int) -> int:
    """The next Binance limit above ``limit``, at most ``ceiling``."""
    for candidate in LIMITS:
        if candidate > limit:
            return min(candidate, ceiling)
    return ceiling
