"""Iceberg orders: a level that is traded into heavily again and again and keeps coming back.

A busy book refills some heavily hit levels anyway (market makers re-quote the touch), so a
level is reported only when it refills far more often than this symbol's levels did after heavy
hits in the baseline (Fisher's exact test on refills per heavy hit).
"""

from __future__ import annotations

from statistics import fmean

from query.analytics.detectors import MAX_REPORTED_PER_TYPE, Context, Pair, anomaly, level_map
from query.analytics.evidence import (
    FIRE_EVIDENCE,
    confidence_from,
    corrected,
    p_value,
    share_evidence,
)
from shared.fixedpoint import SCALE

ICEBERG_MIN_REFILLS = 3
ICEBERG_MIN_HIT_FRACTION = 0.5  # trades in the second took >= half the displayed size
ICEBERG_MIN_BASELINE_PAIRS = 60  # a minute of consecutive history ...
ICEBERG_MIN_BASELINE_HITS = 20  # ... holding enough heavy hits to know how often levels refill

Hit = tuple[int, int, int, bool]  # second, traded, shown, refilled


def heavy_hits(ctx: Context, pairs: list[Pair]) -> dict[tuple[str, int], list[Hit]]:
    """(side, price) -> every second in which trades took >= half the size shown there."""
    hits: dict[tuple[str, int], list[Hit]] = {}
    for before, after in pairs:
        hit_bids, hit_asks = ctx.hits(after.second)
        for side, hit, old, new in (
            ("bid", hit_bids, before.bids, after.bids),
            ("ask", hit_asks, before.asks, after.asks),
        ):
            if not hit:
                continue
            old_map, new_map = level_map(old), level_map(new)
            for price, traded in hit.items():
                shown = old_map.get(price)
                if shown and traded >= ICEBERG_MIN_HIT_FRACTION * shown:
                    # Refilled: the next snapshot shows the level at least at its prior size.
                    refilled = new_map.get(price, 0) >= shown
                    hits.setdefault((side, price), []).append(
                        (after.second, traded, shown, refilled)
                    )
    return hits


def icebergs(symbol: str, ctx: Context, skipped: dict[str, str]) -> list[dict[str, object]]:
    """Levels whose refill share after heavy hits is far above the baseline's, strongest first."""
    if len(ctx.baseline_pairs) < ICEBERG_MIN_BASELINE_PAIRS:
        skipped["iceberg"] = (
            f"needs {ICEBERG_MIN_BASELINE_PAIRS} consecutive baseline seconds,"
            f" have {len(ctx.baseline_pairs)}"
        )
        return []
    base = [h for hits in heavy_hits(ctx, ctx.baseline_pairs).values() for h in hits]
    if len(base) < ICEBERG_MIN_BASELINE_HITS:
        skipped["iceberg"] = (
            f"needs {ICEBERG_MIN_BASELINE_HITS} heavy hits in the baseline, have {len(base)}"
        )
        return []
    base_refills = sum(1 for h in base if h[3])
    window = heavy_hits(ctx, ctx.window_pairs)
    tests = len(window)  # every hit level of the window was a chance to look abnormal
    ranked: list[tuple[float, str, int, dict[str, object]]] = []
    for (side, price), hits in window.items():
        refills = [h for h in hits if h[3]]
        if len(refills) < ICEBERG_MIN_REFILLS:
            continue
        strength = corrected(
            share_evidence(len(hits), len(refills), len(base), base_refills), tests
        )
        if strength < FIRE_EVIDENCE:
            continue
        confidence = confidence_from(strength)
        traded = sum(h[1] for h in refills)
        shown = sum(h[2] for h in refills)
        ranked.append(
            (
                -confidence,
                side,
                price,
                anomaly(
                    symbol,
                    "IcebergOrder",
                    confidence=confidence,
                    second=refills[-1][0],
                    prices=[price],
                    action="Hidden bid liquidity keeps refilling here: expect it to act as support."
                    if side == "bid"
                    else "Hidden ask liquidity keeps refilling here: expect it to cap rallies.",
                    evidence={
                        "side": side,
                        "refill_count": len(refills),
                        "heavy_hits": len(hits),
                        "seconds": [h[0] for h in refills][:20],
                        "traded_volume": traded / SCALE,
                        "mean_displayed_qty": fmean(h[2] for h in refills) / SCALE,
                        "traded_to_displayed": traded / shown,
                        "refill_share": len(refills) / len(hits),
                        "baseline_heavy_hits": len(base),
                        "baseline_refills": base_refills,
                        "baseline_refill_share": base_refills / len(base),
                        "levels_tested": tests,
                        "p_value": p_value(strength),
                        "evidence_log10": strength,
                    },
                ),
            )
        )
    ranked.sort(key=lambda r: r[:3])
    return [record for *_, record in ranked[:MAX_REPORTED_PER_TYPE]]
