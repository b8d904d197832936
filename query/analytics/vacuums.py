"""get_liquidity_vacuums: near-touch distance buckets whose depth over a period is far too thin.

Depth is measured per side in buckets of whole ticks behind that side's best price, for every
snapshot of the period, so a moving book does not smear the picture and no single snapshot
decides. Buckets are then placed behind the latest touch to give exact price ranges. Formulas:
docs/analytics.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import fmean, median_low

from query.analytics.errors import InsufficientData
from query.analytics.measures import BPS, safe_median
from query.analytics.params import check_threshold
from query.analytics.profile.histogram import derive_symbol_tick
from query.analytics.window import by_second, check_span, header, two_sided
from shared.fixedpoint import SCALE, format_fixed
from shared.model import BookSnapshot, Level

MIN_SNAPSHOTS = 10
BUCKETS_PER_SIDE = 20  # the visible book of a typical snapshot spans about this many buckets
MIN_OBSERVED_FRACTION = 0.5  # a bucket must be visible in half the snapshots to be judged
GAP_EMPTY_FRACTION = 0.9  # empty in >= 90% of its observations: a gap with no levels at all
FAST_DEFICIT, MODERATE_DEFICIT = 80.0, 50.0  # expected_impact categories (earlier API)


def side_buckets(levels: Sequence[Level], tick: int, width: int) -> tuple[list[int], int]:
    """(scaled depth per bucket, number of buckets wholly in view) for one side.

    A level ``k`` ticks behind its side's best price falls in bucket ``k // width``: exact
    integers, so a uniform book fills every bucket alike. Buckets reaching past the last stored
    level are not observed (beyond it the book is unknown, not empty).
    """
    depth = [0] * BUCKETS_PER_SIDE
    best = levels[0][0]
    for price, qty in levels:
        index = abs(best - price) // tick // width
        if index < BUCKETS_PER_SIDE:
            depth[index] += qty
    seen = (abs(best - levels[-1][0]) // tick + 1) // width
    return depth, min(BUCKETS_PER_SIDE, seen)


def tick_of(snaps: Sequence[BookSnapshot]) -> int:
    """The gcd of every stored price of the period (a multiple of the symbol's tick)."""
    prices = [p for snap in snaps for side in (snap.bids, snap.asks) for p, _ in side]
    return derive_symbol_tick(prices)


def bucket_width_ticks(snaps: Sequence[BookSnapshot], tick: int) -> int:
    """Median visible span of a side (in ticks) over BUCKETS_PER_SIDE, at least one tick."""
    spans = []
    for snap in snaps:
        spans.append((snap.bids[0][0] - snap.bids[-1][0]) // tick)
        spans.append((snap.asks[-1][0] - snap.asks[0][0]) // tick)
    return max(1, int(median_low(spans)) // BUCKETS_PER_SIDE)


def impact_category(deficit_pct: float) -> str:
    """The earlier API's expected_impact labels, by deficit."""
    if deficit_pct > FAST_DEFICIT:
        return "FastMovement"
    if deficit_pct > MODERATE_DEFICIT:
        return "ModerateMovement"
    return "Negligible"


@dataclass(frozen=True)
class Run:
    """Adjacent thin buckets of one side."""

    side: str
    first: int
    last: int
    actual: float  # mean depth over the run's buckets, base units
    typical: float  # median bucket depth of the side, base units
    empty_fraction: float

    @property
    def deficit_pct(self) -> float:
        return 100.0 * (1.0 - self.actual / self.typical)


def find_side(
    side: str, samples: list[list[int]], n_snaps: int, threshold: float
) -> tuple[float, list[Run]]:
    """(typical bucket depth, vacuum runs) of one side from per-bucket depth samples."""
    judged = [
        b for b in range(BUCKETS_PER_SIDE) if len(samples[b]) >= MIN_OBSERVED_FRACTION * n_snaps
    ]
    if not judged:
        return 0.0, []
    actual = {b: fmean(samples[b]) / SCALE for b in judged}
    typical = safe_median(list(actual.values()))
    groups: list[list[int]] = []
    for b in judged:
        if typical > 0 and actual[b] < threshold * typical:
            if groups and groups[-1][-1] == b - 1:
                groups[-1].append(b)
            else:
                groups.append([b])
    runs = [
        Run(
            side=side,
            first=group[0],
            last=group[-1],
            actual=fmean(actual[b] for b in group),
            typical=typical,
            empty_fraction=fmean(
                sum(1 for x in samples[b] if x == 0) / len(samples[b]) for b in group
            ),
        )
        for group in groups
    ]
    return typical, runs


def describe(run: Run, tick: int, width: int, latest: BookSnapshot) -> dict[str, object]:
    """A run as the JSON the tool returns, its prices placed behind the latest touch.

    The run holds the tick prices ``first*width .. (last+1)*width - 1`` ticks behind the touch;
    ``price_range_low/high`` are the lowest and highest of them (inclusive, exact).
    """
    touch = latest.bids[0][0] if run.side == "bid" else latest.asks[0][0]
    near, far = run.first * width * tick, (run.last + 1) * width * tick  # far is exclusive
    mid2 = latest.bids[0][0] + latest.asks[0][0]  # twice the mid, scaled
    if run.side == "bid":
        low, high = touch - far + tick, touch - near
    else:
        low, high = touch + near, touch + far - tick
    return {
        "side": run.side,
        "price_range_low": format_fixed(low),
        "price_range_high": format_fixed(high),
        "distance_from_touch_low": format_fixed(near),
        "distance_from_touch_high": format_fixed(far),
        "distance_from_mid_bps_low": 2 * (abs(touch - (mid2 - touch)) / 2 + near) / mid2 * BPS,
        "distance_from_mid_bps_high": 2 * (abs(touch - (mid2 - touch)) / 2 + far) / mid2 * BPS,
        "range_width_bps": 2 * (far - near) / mid2 * BPS,
        "volume_deficit_pct": run.deficit_pct,
        "median_volume": run.typical,
        "actual_volume": run.actual,
        "empty_fraction": run.empty_fraction,
        "is_gap": run.empty_fraction >= GAP_EMPTY_FRACTION,
        "expected_impact": impact_category(run.deficit_pct),
    }


def get_liquidity_vacuums(
    snapshots: Iterable[BookSnapshot],
    *,
    symbol: str,
    start: int,
    end: int,
    threshold: float = 0.2,
) -> dict[str, object]:
    """Vacuums over [start, end), mapped onto the latest mid."""
    symbol = check_span(symbol, start, end)
    threshold = check_threshold(threshold)
    snaps = [s for s in by_second(snapshots, start, end) if two_sided(s)]
    if len(snaps) < MIN_SNAPSHOTS:
        raise InsufficientData("two-sided snapshots", len(snaps), MIN_SNAPSHOTS)
    tick = tick_of(snaps)
    width = bucket_width_ticks(snaps, tick)
    samples: dict[str, list[list[int]]] = {
        side: [[] for _ in range(BUCKETS_PER_SIDE)] for side in ("bid", "ask")
    }
    for snap in snaps:
        for side, levels in (("bid", snap.bids), ("ask", snap.asks)):
            depth, seen = side_buckets(levels, tick, width)
            for b in range(seen):
                samples[side][b].append(depth[b])
    latest = snaps[-1]
    ref_mid = (latest.bids[0][0] + latest.asks[0][0]) / 2 / SCALE
    runs: list[Run] = []
    typical_depth: dict[str, float] = {}
    for side in ("bid", "ask"):
        typical_depth[side], found = find_side(side, samples[side], len(snaps), threshold)
        runs.extend(found)
    runs.sort(key=lambda r: (-r.deficit_pct, r.first, r.side))
    vacuums = [describe(run, tick, width, latest) for run in runs]
    return header(
        symbol,
        start,
        end,
        snapshots=len(snaps),
        trades=0,
        extra={
            "threshold": threshold,
            "symbol_tick": format_fixed(tick),
            "bucket_width_ticks": width,
            "bucket_width": format_fixed(width * tick),
            "bucket_width_bps": width * tick / ref_mid / SCALE * BPS,
            "buckets_per_side": BUCKETS_PER_SIDE,
            "reference_second": latest.second,
            "reference_mid": ref_mid,
            "typical_bucket_depth": typical_depth,
            "vacuums": vacuums,
        },
    )
