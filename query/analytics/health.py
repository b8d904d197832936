"""get_microstructure_health: four 0..100 component scores and a weighted overall score.

Every score is scale-free: spreads in bps, depth and update activity relative to the symbol's
own baseline (the BASELINE_SECONDS before the window), imbalances as fractions. So BTCUSDT and a
small coin both score sensibly. Formulas: docs/analytics.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from statistics import fmean, pstdev

from query.analytics.errors import InsufficientData
from query.analytics.flow import flow_totals, taker_totals
from query.analytics.measures import (
    book_imbalance,
    clamp,
    depth_notional,
    percentile,
    safe_median,
    spread_bps,
    update_deltas,
)
from query.analytics.window import (
    BASELINE_SECONDS,
    History,
    by_second,
    check_span,
    consecutive_pairs,
    header,
    trades_between,
    trades_by_pair,
    two_sided,
)
from shared.model import BookSnapshot, Trade

# The baseline of spread, depth and updates; trades after the last event of window_start-1.
HISTORY = History(snapshots=BASELINE_SECONDS, trades=1)
MIN_SNAPSHOTS = 2  # two-sided snapshots in the window
MIN_BASELINE_SNAPSHOTS = 60  # fewer and the window is compared with itself
WEIGHTS = {
    "spread_stability": 0.25,
    "liquidity_depth": 0.35,
    "flow_balance": 0.25,
    "update_activity": 0.15,
}
SPREAD_CV_ZERO = 1.0  # a spread whose std is as large as its mean scores 0 for variability
DEPTH_PERCENTILE = 0.25  # the window's lower-quartile depth is what a trader can count on
ACTIVITY_LOG2_ZERO = 3.0  # 8x faster or slower than the baseline scores 0
LEVELS = (
    (80.0, "Excellent", "Conditions are normal and deep; standard sizes and execution are fine."),
    (60.0, "Good", "Normal trading conditions; standard risk management applies."),
    (40.0, "Fair", "Caution: use smaller sizes and limit orders; watch the weakest component."),
    (20.0, "Poor", "Conditions are degraded: reduce size, avoid market orders, widen stops."),
    (0.0, "Critical", "Severe stress: avoid new positions and market orders until it recovers."),
)
EXCELLENT_MIN_COMPONENT = 50.0

# (score 0..100, the numbers behind it)
Scored = tuple[float, dict[str, float | None]]


def spread_score(window: list[float], baseline: list[float] | None) -> Scored:
    """Half variability (coefficient of variation) and half level relative to the baseline."""
    mean = fmean(window)
    cv = pstdev(window) / mean if mean > 0 else 0.0
    variability = clamp(1.0 - cv / SPREAD_CV_ZERO)
    reference = safe_median(baseline) if baseline else safe_median(window)
    ratio = safe_median(window) / reference if reference > 0 else 1.0
    level = clamp(1.0 / ratio) if ratio > 0 else 1.0
    return 100.0 * (0.5 * variability + 0.5 * level), {
        "median_spread_bps": safe_median(window),
        "spread_cv": cv,
        "reference_spread_bps": reference,
        "spread_ratio": ratio,
    }


def depth_score(window: list[float], baseline: list[float] | None) -> Scored:
    """Lower-quartile window depth over the reference median depth, capped at 1."""
    reference = safe_median(baseline) if baseline else safe_median(window)
    low = percentile(window, DEPTH_PERCENTILE)
    ratio = low / reference if reference > 0 else 0.0
    return 100.0 * clamp(ratio), {
        "p25_depth_notional": low,
        "reference_depth_notional": reference,
        "depth_ratio": ratio,
    }


def imbalance(a: int, b: int) -> float | None:
    """|a - b| / (a + b), or None when both are zero."""
    return abs(a - b) / (a + b) if a + b else None


def flow_score(added: tuple[int, int], taker: tuple[int, int], books: list[float]) -> Scored:
    """100 x (1 - mean of the available imbalances: added liquidity, taker volume, book)."""
    parts = {
        "added_liquidity_imbalance": imbalance(*added),
        "taker_volume_imbalance": imbalance(*taker),
        "book_imbalance": fmean(abs(x) for x in books) if books else None,
    }
    present = [v for v in parts.values() if v is not None]
    return (100.0 * (1.0 - fmean(present)) if present else 100.0), parts


def activity_score(window: list[int], baseline: list[int] | None) -> Scored:
    """Share of seconds with exchange updates, times closeness of the rate to the baseline."""
    active = sum(1 for d in window if d > 0) / len(window)
    rate = fmean(window)
    result: dict[str, float | None] = {"update_ids_per_second": rate, "active_fraction": active}
    if not baseline:
        result["baseline_update_ids_per_second"] = None
        return 100.0 * active, result
    base_active = sum(1 for d in baseline if d > 0) / len(baseline)
    # Like with like: the mean rate of the window against the mean rate of the baseline (a
    # median of bursty seconds is far below their mean, so the two do not compare).
    base_rate = fmean(baseline)
    ratio = rate_ratio(rate, base_rate)
    closeness = (
        clamp(1.0 - abs(math.log2(ratio)) / ACTIVITY_LOG2_ZERO)
        if ratio is not None and ratio > 0
        else 0.0
    )
    liveness = clamp(active / base_active) if base_active > 0 else active
    result.update(baseline_update_ids_per_second=base_rate, rate_ratio=ratio)
    return 100.0 * liveness * closeness, result


def rate_ratio(rate: float, base_rate: float) -> float | None:
    """rate / base_rate; 1 when both are 0, None (no finite ratio) when only the baseline is."""
    if base_rate > 0:
        return rate / base_rate
    return 1.0 if rate == 0 else None


def classify(overall: float, components: dict[str, float]) -> tuple[str, str]:
    """Health level and recommended action; Excellent also needs every component >= 50."""
    weakest = min(components, key=lambda k: (components[k], k))
    for floor, level, action in LEVELS:
        if overall < floor:
            continue
        if level == "Excellent" and components[weakest] < EXCELLENT_MIN_COMPONENT:
            continue
        if level == "Excellent":
            return level, action
        return level, f"{action} Weakest component: {weakest} ({components[weakest]:.0f})."
    raise AssertionError("unreachable: the last level has floor 0")


def get_microstructure_health(
    snapshots: Iterable[BookSnapshot],
    trades: Iterable[Trade],
    *,
    symbol: str,
    window_start: int,
    window_end: int,
) -> dict[str, object]:
    """Health of [window_start, window_end) against the baseline before it."""
    symbol = check_span(symbol, window_start, window_end)
    snaps = by_second(snapshots, window_start - BASELINE_SECONDS, window_end)
    window = [s for s in snaps if s.second >= window_start and two_sided(s)]
    if len(window) < MIN_SNAPSHOTS:
        raise InsufficientData("two-sided snapshots", len(window), MIN_SNAPSHOTS)
    base = [s for s in snaps if s.second < window_start and two_sided(s)]
    use_base = len(base) >= MIN_BASELINE_SNAPSHOTS
    pairs = consecutive_pairs(snaps)
    window_pairs = [p for p in pairs if p[1].second >= window_start]
    if not window_pairs:
        raise InsufficientData("consecutive-second snapshot pairs", 0, 1)
    base_pairs = [p for p in pairs if p[1].second < window_start]

    trades = list(trades)
    all_trades = trades_between(trades, window_start, window_end)
    flow = flow_totals(window_pairs, trades_by_pair(window_pairs, trades))
    taker = taker_totals(all_trades)
    components = {
        "spread_stability": spread_score(
            [spread_bps(s) for s in window], [spread_bps(s) for s in base] if use_base else None
        ),
        "liquidity_depth": depth_score(
            [depth_notional(s) for s in window],
            [depth_notional(s) for s in base] if use_base else None,
        ),
        "flow_balance": flow_score(
            (flow["bid_added"], flow["ask_added"]),
            (taker["buy_qty"], taker["sell_qty"]),
            [book_imbalance(s) for s in window],
        ),
        "update_activity": activity_score(
            update_deltas(window_pairs),
            update_deltas(base_pairs) if use_base and base_pairs else None,
        ),
    }
    scores = {k: v[0] for k, v in components.items()}
    details = {k: {"score": v[0], **v[1]} for k, v in components.items()}
    overall = sum(WEIGHTS[k] * scores[k] for k in WEIGHTS)
    level, action = classify(overall, scores)
    return header(
        symbol,
        window_start,
        window_end,
        snapshots=len(window),
        trades=len(all_trades),
        extra={
            "timestamp": window_end,
            "overall_score": overall,
            "spread_stability_score": scores["spread_stability"],
            "liquidity_depth_score": scores["liquidity_depth"],
            "flow_balance_score": scores["flow_balance"],
            "update_rate_score": scores["update_activity"],
            "health_level": level,
            "recommended_action": action,
            "weights": dict(WEIGHTS),
            "components": details,
            "baseline_used": use_base,
            "baseline_snapshots": len(base),
            "flow_seconds": len(window_pairs),
        },
    )
