"""get_microstructure_health as docs/analytics.md defines it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared.model import BookSnapshot, Trade
from tests.reference.common import (
    BPS,
    RefInsufficient,
    between,
    books_in,
    clamp,
    consecutive,
    d,
    median,
    of_seconds,
    percentile,
    two_sided,
)
from tests.reference.flow import side_flow

WEIGHTS = {
    "spread_stability": Decimal("0.25"),
    "liquidity_depth": Decimal("0.35"),
    "flow_balance": Decimal("0.25"),
    "update_activity": Decimal("0.15"),
}
ONE = Decimal(1)


def spread(b: BookSnapshot) -> Decimal:
    pb, pa = d(b.bids[0][0]), d(b.asks[0][0])
    return (pa - pb) / ((pa + pb) / 2) * BPS


def depth(b: BookSnapshot) -> Decimal:
    return sum((d(p) * d(q) for p, q in (*b.bids[:20], *b.asks[:20])), Decimal(0))


def mean(xs: list[Decimal]) -> Decimal:
    return sum(xs, Decimal(0)) / len(xs)


def pstdev(xs: list[Decimal]) -> Decimal:
    m = mean(xs)
    return (sum(((x - m) ** 2 for x in xs), Decimal(0)) / len(xs)).sqrt()


def share(a: Decimal, b: Decimal) -> Decimal | None:
    return abs(a - b) / (a + b) if a + b else None


def health(
    snapshots: list[BookSnapshot], trades: list[Trade], start: int, end: int
) -> dict[str, object]:
    books = books_in(snapshots, start - 600, end)
    window = [b for b in books if b.second >= start and two_sided(b)]
    if len(window) < 2:
        raise RefInsufficient("two-sided snapshots")
    base = [b for b in books if b.second < start and two_sided(b)]
    use_base = len(base) >= 60
    pairs = consecutive(books)
    window_pairs = [(a, b) for a, b in pairs if b.second >= start]
    if not window_pairs:
        raise RefInsufficient("pairs")
    base_pairs = [(a, b) for a, b in pairs if b.second < start]

    spreads = [spread(b) for b in window]
    m = mean(spreads)
    cv = pstdev(spreads) / m if m > 0 else Decimal(0)
    reference = median([spread(b) for b in base]) if use_base else median(spreads)
    ratio = median(spreads) / reference if reference > 0 else ONE
    level = clamp(1 / ratio) if ratio > 0 else ONE
    spread_part = (
        100 * (clamp(1 - cv) / 2 + level / 2),
        {
            "median_spread_bps": median(spreads),
            "spread_cv": cv,
            "reference_spread_bps": reference,
            "spread_ratio": ratio,
        },
    )

    depths = [depth(b) for b in window]
    ref_depth = median([depth(b) for b in base]) if use_base else median(depths)
    low = percentile(depths, Decimal("0.25"))
    depth_ratio = low / ref_depth if ref_depth > 0 else Decimal(0)
    depth_part = (
        100 * clamp(depth_ratio),
        {
            "p25_depth_notional": low,
            "reference_depth_notional": ref_depth,
            "depth_ratio": depth_ratio,
        },
    )

    bid_added = ask_added = Decimal(0)
    for a, b in window_pairs:
        moved = between(trades, a, b)
        bid_added += side_flow(a, b, moved, True)[0]
        ask_added += side_flow(a, b, moved, False)[0]
    window_trades = of_seconds(trades, start, end)
    buy = sum((d(t.qty) for t in window_trades if not t.buyer_maker), Decimal(0))
    sell = sum((d(t.qty) for t in window_trades if t.buyer_maker), Decimal(0))
    books_imbalance = []
    for b in window:
        qb = sum((d(q) for _, q in b.bids[:20]), Decimal(0))
        qa = sum((d(q) for _, q in b.asks[:20]), Decimal(0))
        books_imbalance.append(abs(qb - qa) / (qb + qa))
    parts = {
        "added_liquidity_imbalance": share(bid_added, ask_added),
        "taker_volume_imbalance": share(buy, sell),
        "book_imbalance": mean(books_imbalance),
    }
    present = [v for v in parts.values() if v is not None]
    flow_part = (100 * (1 - mean(present)) if present else Decimal(100), parts)

    deltas = [max(0, b.update_id - a.update_id) for a, b in window_pairs]
    active = Decimal(sum(1 for x in deltas if x > 0)) / len(deltas)
    rate = Decimal(sum(deltas)) / len(deltas)
    details: dict[str, object] = {"update_ids_per_second": rate, "active_fraction": active}
    base_deltas = [max(0, b.update_id - a.update_id) for a, b in base_pairs]
    if use_base and base_deltas:
        base_active = Decimal(sum(1 for x in base_deltas if x > 0)) / len(base_deltas)
        base_rate = Decimal(sum(base_deltas)) / len(base_deltas)
        if base_rate > 0:
            rate_ratio: Decimal | None = rate / base_rate
        else:
            rate_ratio = ONE if rate == 0 else None
        if rate_ratio is not None and rate_ratio > 0:
            closeness = clamp(1 - abs(rate_ratio.ln() / Decimal(2).ln()) / 3)
        else:
            closeness = Decimal(0)
        liveness = clamp(active / base_active) if base_active > 0 else active
        details.update(baseline_update_ids_per_second=base_rate, rate_ratio=rate_ratio)
        activity_part = (100 * liveness * closeness, details)
    else:
        details["baseline_update_ids_per_second"] = None
        activity_part = (100 * active, details)

    parts_all: dict[str, tuple[Decimal, dict[str, Any]]] = {
        "spread_stability": spread_part,
        "liquidity_depth": depth_part,
        "flow_balance": flow_part,
        "update_activity": activity_part,
    }
    scores = {k: v[0] for k, v in parts_all.items()}
    overall = sum((WEIGHTS[k] * scores[k] for k in WEIGHTS), Decimal(0))
    weakest = min(scores, key=lambda k: (scores[k], k))
    if overall >= 80 and scores[weakest] >= 50:
        label = "Excellent"
    elif overall >= 60:
        label = "Good"
    elif overall >= 40:
        label = "Fair"
    elif overall >= 20:
        label = "Poor"
    else:
        label = "Critical"
    return {
        "symbol": books[0].symbol,
        "window_start": start,
        "window_end": end,
        "window_seconds": end - start,
        "snapshots_used": len(window),
        "trades_used": len(window_trades),
        "timestamp": end,
        "overall_score": overall,
        "spread_stability_score": scores["spread_stability"],
        "liquidity_depth_score": scores["liquidity_depth"],
        "flow_balance_score": scores["flow_balance"],
        "update_rate_score": scores["update_activity"],
        "health_level": label,
        "recommended_action": weakest,  # compared as "names the weakest component"
        "weights": {k: float(v) for k, v in WEIGHTS.items()},
        "components": {k: {"score": v[0], **v[1]} for k, v in parts_all.items()},
        "baseline_used": use_base,
        "baseline_snapshots": len(base),
        "flow_seconds": len(window_pairs),
    }
