"""get_liquidity_vacuums: near-touch distance buckets whose depth over a period is far too thin.

Depth is measured per side in buckets of distance from the mid (bps), for every snapshot of the
period, so a moving mid does not smear the picture and no single snapshot decides. Buckets are
then mapped onto the latest mid to give today's price ranges. Formulas: docs/analytics.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import fmean

from query.analytics.errors import InsufficientData
from query.analytics.measures import BPS, safe_median
from query.analytics.params import check_threshold
from query.analytics.profile.histogram import derive_symbol_tick
from query.analytics.window import by_second, check_span, header, two_sided
from shared.fixedpoint import SCALE
from shared.model import BookSnapshot, Level

MIN_SNAPSHOTS = 10
BUCKETS_PER_SIDE = 20  # the visible book of a typical snapshot spans about this many buckets
MIN_OBSERVED_FRACTION = 0.5  # a bucket must be visible in half the snapshots to be judged
GAP_EMPTY_FRACTION = 0.9  # empty in >= 90% of its observations: a gap with no levels at all
FAST_DEFICIT, MODERATE_DEFICIT = 80.0, 50.0  # expected_impact categories (earlier API)


def side_buckets(
    levels: Sequence[Level], mid: float, width: float, bids: bool
) -> tuple[list[int], int, int]:
    """(scaled depth per bucket, first observed bucket, end of observed buckets) for one side.

    A bucket is observed when it reaches past the touch (buckets wholly inside the spread say
    nothing about resting depth) and lies wholly within the visible levels (beyond the last
    visible level the book is unknown, not empty).
    """
    depth = [0] * BUCKETS_PER_SIDE
    scale = BPS / (mid * SCALE)
    distances = [((mid * SCALE - p) if bids else (p - mid * SCALE)) * scale for p, _ in levels]
    for (_, qty), distance in zip(levels, distances, strict=True):
        index = int(distance // width)
        if 0 <= index < BUCKETS_PER_SIDE:
            depth[index] += qty
    first = int(distances[0] // width)  # the bucket holding the touch
    end = min(BUCKETS_PER_SIDE, int(distances[-1] // width))  # buckets wholly inside the view
    return depth, max(first, 0), end


def bucket_width_bps(snaps: Sequence[BookSnapshot]) -> float:
    """Median visible span of a side over BUCKETS_PER_SIDE, but never below one tick."""
    spans = []
    for snap in snaps:
        mid = (snap.bids[0][0] + snap.asks[0][0]) / 2
        spans.append((mid - snap.bids[-1][0]) / mid * BPS)
        spans.append((snap.asks[-1][0] - mid) / mid * BPS)
    latest = snaps[-1]
    tick = derive_symbol_tick(p for p, _ in (*latest.bids, *latest.asks))
    mid = (latest.bids[0][0] + latest.asks[0][0]) / 2
    return max(safe_median(spans) / BUCKETS_PER_SIDE, tick / mid * BPS)


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


def describe(run: Run, width: float, ref_mid: float) -> dict[str, object]:
    """A run as the JSON the tool returns, with price ranges on the reference mid."""
    near, far = run.first * width, (run.last + 1) * width
    sign = -1.0 if run.side == "bid" else 1.0
    low, high = sorted(ref_mid * (1 + sign * d / BPS) for d in (near, far))
    return {
        "side": run.side,
        "price_range_low": round(low, 8),
        "price_range_high": round(high, 8),
        "distance_from_mid_bps_low": near,
        "distance_from_mid_bps_high": far,
        "range_width_bps": far - near,
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
    width = bucket_width_bps(snaps)
    samples: dict[str, list[list[int]]] = {
        side: [[] for _ in range(BUCKETS_PER_SIDE)] for side in ("bid", "ask")
    }
    for snap in snaps:
        mid = (snap.bids[0][0] + snap.asks[0][0]) / 2 / SCALE
        for side, levels in (("bid", snap.bids), ("ask", snap.asks)):
            depth, first, stop = side_buckets(levels, mid, width, side == "bid")
            for b in range(first, stop):
                samples[side][b].append(depth[b])
    latest = snaps[-1]
    ref_mid = (latest.bids[0][0] + latest.asks[0][0]) / 2 / SCALE
    runs: list[Run] = []
    typical_depth: dict[str, float] = {}
    for side in ("bid", "ask"):
        typical_depth[side], found = find_side(side, samples[side], len(snaps), threshold)
        runs.extend(found)
    runs.sort(key=lambda r: (-r.deficit_pct, r.first, r.side))
    vacuums = [describe(run, width, ref_mid) for run in runs]
    return header(
        symbol,
        start,
        end,
        snapshots=len(snaps),
        trades=0,
        extra={
            "threshold": threshold,
            "bucket_width_bps": width,
            "buckets_per_side": BUCKETS_PER_SIDE,
            "reference_second": latest.second,
            "reference_mid": ref_mid,
            "typical_bucket_depth": typical_depth,
            "vacuums": vacuums,
        },
    )
