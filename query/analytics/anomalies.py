"""detect_market_anomalies: quote stuffing, icebergs, flash-crash risk and spoofing-like orders.

Each detector states its evidence in numbers and a confidence in 0..1 where higher means a
stronger signal. Detectors that need a baseline skip (and say so) when the history before the
window is too short, so an empty start-up never raises an alarm. Formulas: docs/analytics.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from statistics import fmean

from query.analytics.errors import InsufficientData
from query.analytics.flow import traded_per_side
from query.analytics.measures import (
    clamp,
    depth_notional,
    safe_median,
    spread_bps,
    update_deltas,
)
from query.analytics.signals import MAX_REPORTED_PER_TYPE, Context, anomaly, level_map
from query.analytics.spoofing import spoofing
from query.analytics.window import (
    BASELINE_SECONDS,
    by_second,
    check_span,
    consecutive_pairs,
    header,
    trades_between,
    trades_by_second,
    two_sided,
)
from shared.fixedpoint import SCALE
from shared.model import BookSnapshot, Trade

MIN_BASELINE_PAIRS = 60  # a minute of consecutive history before the window
MIN_WINDOW_PAIRS = 5
MIN_WINDOW_SNAPSHOTS = 2  # fewer and "no anomaly" would be a claim without evidence
STUFFING_RATIO = 5.0  # window update rate >= 5x the baseline median rate
STUFFING_FULL_RATIO = 20.0  # ... confidence reaches 1 at 20x
FEW_TRADES_FRACTION = 0.5  # trades per update at most half the baseline's
ICEBERG_MIN_REFILLS = 3
ICEBERG_MIN_HIT_FRACTION = 0.5  # trades in the second took >= half the displayed size
FLASH_DEPTH_RATIO = 0.5  # top-20 depth at most half the baseline median ...
FLASH_SPREAD_RATIO = 2.0  # ... while the spread is at least twice the baseline median
FLASH_MIN_SECONDS = 3


def quote_stuffing(symbol: str, ctx: Context, skipped: dict[str, str]) -> list[dict[str, object]]:
    """Exchange update rate far above the baseline while trading does not keep pace."""
    if len(ctx.baseline_pairs) < MIN_BASELINE_PAIRS:
        skipped["quote_stuffing"] = (
            f"needs {MIN_BASELINE_PAIRS} consecutive baseline seconds,"
            f" have {len(ctx.baseline_pairs)}"
        )
        return []
    if len(ctx.window_pairs) < MIN_WINDOW_PAIRS:
        skipped["quote_stuffing"] = f"needs {MIN_WINDOW_PAIRS} consecutive window seconds"
        return []
    base = update_deltas(ctx.baseline_pairs)
    window = update_deltas(ctx.window_pairs)
    base_rate = max(safe_median(base), 1.0)
    rate = fmean(window)
    ratio = rate / base_rate
    base_seconds = {b.second for _, b in ctx.baseline_pairs}
    base_trades = sum(1 for t in ctx.baseline_trades if t.ts_trade // 1000 in base_seconds)
    base_tpu = base_trades / max(sum(base), 1)
    tpu = len(ctx.window_trades) / max(sum(window), 1)
    few_trades = tpu <= FEW_TRADES_FRACTION * base_tpu or not ctx.window_trades
    if ratio < STUFFING_RATIO or not few_trades:
        return []
    confidence = clamp(
        0.5
        + 0.5 * math.log(ratio / STUFFING_RATIO) / math.log(STUFFING_FULL_RATIO / STUFFING_RATIO)
    )
    peak_pair = max(ctx.window_pairs, key=lambda p: (p[1].update_id - p[0].update_id, p[1].second))
    peak = peak_pair[1]
    touch = [peak.bids[0][0]] if peak.bids else []
    touch += [peak.asks[0][0]] if peak.asks else []
    return [
        anomaly(
            symbol,
            "QuoteStuffing",
            confidence=confidence,
            second=peak.second,
            prices=touch,
            action="Book updates far outpace trading: distrust displayed depth; use limit orders.",
            evidence={
                "window_update_rate": rate,
                "baseline_update_rate": base_rate,
                "rate_ratio": ratio,
                "window_trades": len(ctx.window_trades),
                "window_trades_per_update": tpu,
                "baseline_trades_per_update": base_tpu,
                "peak_second": peak.second,
                "peak_update_rate": peak.update_id - peak_pair[0].update_id,
            },
        )
    ]


def icebergs(symbol: str, ctx: Context) -> list[dict[str, object]]:
    """A level traded into again and again but back at/above its prior size the next second."""
    refills: dict[tuple[str, int], list[tuple[int, int, int]]] = {}  # -> (second, traded, shown)
    for before, after in ctx.window_pairs:
        hit_bids, hit_asks = traded_per_side(ctx.trades_of.get(after.second, ()))
        for side, hit, old, new in (
            ("bid", hit_bids, before.bids, after.bids),
            ("ask", hit_asks, before.asks, after.asks),
        ):
            if not hit:
                continue
            old_map, new_map = level_map(old), level_map(new)
            for price, traded in hit.items():
                shown = old_map.get(price)
                now = new_map.get(price)
                if shown and now and traded >= ICEBERG_MIN_HIT_FRACTION * shown and now >= shown:
                    refills.setdefault((side, price), []).append((after.second, traded, shown))
    ranked: list[tuple[float, str, int, dict[str, object]]] = []
    for (side, price), events in refills.items():
        if len(events) < ICEBERG_MIN_REFILLS:
            continue
        hit_ratio = fmean(min(1.0, t / s) for _, t, s in events)
        confidence = clamp(len(events) / (2 * ICEBERG_MIN_REFILLS)) * hit_ratio
        traded = sum(t for _, t, _ in events)
        ranked.append(
            (
                -confidence,
                side,
                price,
                anomaly(
                    symbol,
                    "IcebergOrder",
                    confidence=confidence,
                    second=events[-1][0],
                    prices=[price],
                    action="Hidden bid liquidity keeps refilling here: expect it to act as support."
                    if side == "bid"
                    else "Hidden ask liquidity keeps refilling here: expect it to cap rallies.",
                    evidence={
                        "side": side,
                        "refill_count": len(events),
                        "seconds": [s for s, _, _ in events][:20],
                        "traded_volume": traded / SCALE,
                        "mean_displayed_qty": fmean(s for _, _, s in events) / SCALE,
                        "traded_to_displayed": traded / sum(s for _, _, s in events),
                    },
                ),
            )
        )
    ranked.sort(key=lambda r: r[:3])
    return [record for *_, record in ranked[:MAX_REPORTED_PER_TYPE]]


def flash_crash(symbol: str, ctx: Context, skipped: dict[str, str]) -> list[dict[str, object]]:
    """Depth collapse together with spread widening, both against the baseline medians."""
    if len(ctx.baseline) < MIN_BASELINE_PAIRS:
        skipped["flash_crash_risk"] = (
            f"needs {MIN_BASELINE_PAIRS} baseline snapshots, have {len(ctx.baseline)}"
        )
        return []
    base_depth = safe_median([depth_notional(s) for s in ctx.baseline])
    base_spread = safe_median([spread_bps(s) for s in ctx.baseline])
    if base_depth <= 0 or base_spread <= 0:
        return []
    stressed = []
    for snap in ctx.window:
        d = depth_notional(snap) / base_depth
        w = spread_bps(snap) / base_spread
        if d <= FLASH_DEPTH_RATIO and w >= FLASH_SPREAD_RATIO:
            stressed.append((snap, d, w))
    if len(stressed) < FLASH_MIN_SECONDS:
        return []
    worst = min(stressed, key=lambda x: (x[1] / x[2], x[0].second))
    d_min = min(d for _, d, _ in stressed)
    w_max = max(w for _, _, w in stressed)
    confidence = clamp(
        0.5
        + 0.25 * clamp((FLASH_DEPTH_RATIO - d_min) / 0.4)
        + 0.25 * clamp(math.log(w_max / FLASH_SPREAD_RATIO) / math.log(5.0))
    )
    snap = worst[0]
    return [
        anomaly(
            symbol,
            "FlashCrashRisk",
            confidence=confidence,
            second=snap.second,
            prices=[snap.bids[0][0], snap.asks[0][0]],
            action="Depth collapsed while the spread widened: avoid market orders and tight stops.",
            evidence={
                "stressed_seconds": len(stressed),
                "depth_loss_pct": 100.0 * (1.0 - d_min),
                "spread_multiplier": w_max,
                "baseline_depth_notional": base_depth,
                "baseline_spread_bps": base_spread,
                "worst_second": snap.second,
            },
        )
    ]


def detect_market_anomalies(
    snapshots: Iterable[BookSnapshot],
    trades: Iterable[Trade],
    *,
    symbol: str,
    window_start: int,
    window_end: int,
) -> dict[str, object]:
    """Anomalies in [window_start, window_end), judged against the baseline before it."""
    symbol = check_span(symbol, window_start, window_end)
    snaps = by_second(snapshots, window_start - BASELINE_SECONDS, window_end)
    pairs = consecutive_pairs(snaps)
    all_trades = trades_between(trades, window_start - BASELINE_SECONDS, window_end)
    ctx = Context(
        window=[s for s in snaps if s.second >= window_start and two_sided(s)],
        baseline=[s for s in snaps if s.second < window_start and two_sided(s)],
        window_pairs=[p for p in pairs if p[1].second >= window_start],
        baseline_pairs=[p for p in pairs if p[1].second < window_start],
        window_trades=[t for t in all_trades if t.ts_trade >= window_start * 1000],
        baseline_trades=[t for t in all_trades if t.ts_trade < window_start * 1000],
        trades_of=trades_by_second(all_trades),
        snaps_by_second={s.second: s for s in snaps},
    )
    if len(ctx.window) < MIN_WINDOW_SNAPSHOTS:
        raise InsufficientData("two-sided snapshots", len(ctx.window), MIN_WINDOW_SNAPSHOTS)
    skipped: dict[str, str] = {}
    found = [
        *quote_stuffing(symbol, ctx, skipped),
        *icebergs(symbol, ctx),
        *flash_crash(symbol, ctx, skipped),
        *spoofing(symbol, ctx),
    ]
    return header(
        symbol,
        window_start,
        window_end,
        snapshots=len(ctx.window),
        trades=len(ctx.window_trades),
        extra={
            "window_duration_secs": window_end - window_start,
            "baseline_snapshots": len(ctx.baseline),
            "baseline_seconds": len(ctx.baseline_pairs),
            "anomalies": found,
            "anomaly_count": len(found),
            "checks_skipped": skipped,
        },
    )
