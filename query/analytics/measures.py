"""Per-snapshot measures shared by health, anomalies and vacuums (floats: derived statistics)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import starmap
from operator import mul
from statistics import median

from query.analytics.flow import FLOW_LEVELS
from query.analytics.window import Pair
from shared.fixedpoint import SCALE
from shared.model import BookSnapshot

BPS = 10_000.0


def mid_price(snap: BookSnapshot) -> float:
    """Mid price in quote units; the caller ensures both sides exist."""
    return (snap.bids[0][0] + snap.asks[0][0]) / 2 / SCALE


def spread_bps(snap: BookSnapshot) -> float:
    """Best ask minus best bid in basis points of the mid (scale-free across symbols)."""
    bid, ask = snap.bids[0][0], snap.asks[0][0]
    return (ask - bid) / ((ask + bid) / 2) * BPS


def depth_notional(snap: BookSnapshot, levels: int = FLOW_LEVELS) -> float:
    """Quote value resting on the top ``levels`` levels of both sides."""
    # starmap(mul) keeps the loop in C: this runs for every baseline snapshot.
    total = sum(starmap(mul, snap.bids[:levels])) + sum(starmap(mul, snap.asks[:levels]))
    return total / SCALE / SCALE


def book_imbalance(snap: BookSnapshot, levels: int = FLOW_LEVELS) -> float:
    """(Qb - Qa) / (Qb + Qa) over the top ``levels`` levels, in -1..1 (0 for an empty book)."""
    qb = sum(q for _, q in snap.bids[:levels])
    qa = sum(q for _, q in snap.asks[:levels])
    return (qb - qa) / (qb + qa) if qb + qa else 0.0


def update_deltas(pairs: Sequence[Pair]) -> list[int]:
    """Exchange update ids consumed per second, one value per consecutive pair.

    This is the exchange's own activity (Binance ``u`` progress), not a count of our 1 Hz
    snapshots. A negative delta (ids never go back on one symbol) is treated as no information.
    """
    return [max(0, b.update_id - a.update_id) for a, b in pairs]


def percentile(values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile (fraction in 0..1) of a non-empty sequence."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def safe_median(values: Sequence[float]) -> float:
    """Median, or 0.0 for no values."""
    return float(median(values)) if values else 0.0


def clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    """Limit value to [low, high]."""
    return max(low, min(high, value))
