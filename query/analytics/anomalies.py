"""detect_market_anomalies: quote stuffing, icebergs, flash-crash risk and spoofing-like orders.

Each detector states its evidence in numbers and a confidence in 0..1 where higher means a
stronger signal. Detectors that need a baseline skip (and say so) when the history before the
window is too short, so an empty start-up never raises an alarm. Formulas: docs/analytics.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from statistics import fmean

from query.analytics.detectors import Context, anomaly
from query.analytics.errors import InsufficientData
from query.analytics.flow import traded_per_side
from query.analytics.icebergs import icebergs
from query.analytics.measures import (
    clamp,
    depth_notional,
    percentile,
    safe_median,
    spread_bps,
    update_deltas,
)
from query.analytics.spoofing import spoofing
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

# Baseline rates need the baseline's trades too (trades per update, heavy hits).
HISTORY = History(snapshots=BASELINE_SECONDS, trades=BASELINE_SECONDS)
MIN_BASELINE_PAIRS = 60  # a minute of consecutive history before the window
MIN_WINDOW_PAIRS = 5
MIN_WINDOW_SNAPSHOTS = 2  # fewer and "no anomaly" would be a claim without evidence
STUFFING_RATIO = 5.0  # window update rate >= 5x the baseline median rate
STUFFING_FULL_RATIO = 20.0  # ... confidence reaches 1 at 20x
FEW_TRADES_FRACTION = 0.5  # trades per update at most half the baseline's
FLASH_DEPTH_RATIO = 0.5  # top-20 depth at most half the baseline median ...
FLASH_SPREAD_RATIO = 2.0  # ... while the spread is at least twice the baseline median ...
FLASH_TAIL = 0.01  # ... and both beyond the baseline's own 1% tails (P1 depth, P99 spread)
FLASH_MIN_SECONDS = 3
FLASH_SHARE_MULTIPLE = 5.0  # stressed share of window seconds >= 5x the baseline's share


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
    # Like with like: mean rate against mean rate (bursty but unchanged activity has a mean far
    # above its median). Below one update a second nothing is stuffed, hence the floor.
    base_rate = max(fmean(base), 1.0)
    rate = fmean(window)
    ratio = rate / base_rate
    # Trades and updates over the same seconds: the trades between the books of each pair.
    base_trades = sum(len(ctx.trades_of(b.second)) for _, b in ctx.baseline_pairs)
    window_trades = sum(len(ctx.trades_of(b.second)) for _, b in ctx.window_pairs)
    base_tpu = base_trades / max(sum(base), 1)
    tpu = window_trades / max(sum(window), 1)
    few_trades = tpu <= FEW_TRADES_FRACTION * base_tpu or not window_trades
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
                "window_trades": window_trades,
                "window_trades_per_update": tpu,
                "baseline_trades_per_update": base_tpu,
                "peak_second": peak.second,
                "peak_update_rate": peak.update_id - peak_pair[0].update_id,
            },
        )
    ]


def flash_crash(symbol: str, ctx: Context, skipped: dict[str, str]) -> list[dict[str, object]]:
    """Depth collapse with spread widening, beyond both the baseline medians and its own tails."""
    if len(ctx.baseline) < MIN_BASELINE_PAIRS:
        skipped["flash_crash_risk"] = (
            f"needs {MIN_BASELINE_PAIRS} baseline snapshots, have {len(ctx.baseline)}"
        )
        return []
    base_depths = [depth_notional(s) for s in ctx.baseline]
    base_spreads = [spread_bps(s) for s in ctx.baseline]
    base_depth, base_spread = safe_median(base_depths), safe_median(base_spreads)
    if base_depth <= 0 or base_spread <= 0:
        return []
    # A symbol whose depth often halves for a moment (or whose spread often doubles, e.g. a
    # one-tick book) shows that in its baseline tails; the lines move out accordingly.
    depth_line = min(FLASH_DEPTH_RATIO, percentile(base_depths, FLASH_TAIL) / base_depth)
    spread_line = max(FLASH_SPREAD_RATIO, percentile(base_spreads, 1 - FLASH_TAIL) / base_spread)

    def stress(snap: BookSnapshot) -> tuple[float, float] | None:
        d, w = depth_notional(snap) / base_depth, spread_bps(snap) / base_spread
        return (d, w) if d <= depth_line and w >= spread_line else None

    base_stressed = sum(1 for s in ctx.baseline if stress(s) is not None)
    stressed = [(snap, *dw) for snap in ctx.window if (dw := stress(snap)) is not None]
    base_share = base_stressed / len(ctx.baseline)
    share = len(stressed) / len(ctx.window)
    if len(stressed) < FLASH_MIN_SECONDS or share < FLASH_SHARE_MULTIPLE * base_share:
        return []
    worst = min(stressed, key=lambda x: (x[1] / x[2], x[0].second))
    d_min = min(d for _, d, _ in stressed)
    w_max = max(w for _, _, w in stressed)
    confidence = clamp(
        0.5
        + 0.25 * clamp((depth_line - d_min) / 0.4)
        + 0.25 * clamp(math.log(w_max / spread_line) / math.log(5.0))
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
                "baseline_stressed_seconds": base_stressed,
                "depth_loss_pct": 100.0 * (1.0 - d_min),
                "spread_multiplier": w_max,
                "depth_line": depth_line,
                "spread_line": spread_line,
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
    trades = list(trades)
    all_trades = trades_between(trades, window_start - BASELINE_SECONDS, window_end)
    paired = trades_by_pair(pairs, trades)
    ctx = Context(
        window_start=window_start,
        window_end=window_end,
        window=[s for s in snaps if s.second >= window_start and two_sided(s)],
        baseline=[s for s in snaps if s.second < window_start and two_sided(s)],
        window_pairs=[p for p in pairs if p[1].second >= window_start],
        baseline_pairs=[p for p in pairs if p[1].second < window_start],
        window_trades=[t for t in all_trades if t.ts_trade >= window_start * 1000],
        baseline_trades=[t for t in all_trades if t.ts_trade < window_start * 1000],
        snaps_by_second={s.second: s for s in snaps},
        pair_trades=paired,
        hits_of={second: traded_per_side(ts) for second, ts in paired.items()},
    )
    if len(ctx.window) < MIN_WINDOW_SNAPSHOTS:
        raise InsufficientData("two-sided snapshots", len(ctx.window), MIN_WINDOW_SNAPSHOTS)
    skipped: dict[str, str] = {}
    found = [
        *quote_stuffing(symbol, ctx, skipped),
        *icebergs(symbol, ctx, skipped),
        *flash_crash(symbol, ctx, skipped),
        *spoofing(symbol, ctx, skipped),
    ]
    return header(
        symbol,
        window_start,
        window_end,
        snapshots=len(ctx.window),
        trades=len(ctx.window_trades),
        extra={
            "baseline_snapshots": len(ctx.baseline),
            "baseline_seconds": len(ctx.baseline_pairs),
            "anomalies": found,
            "anomaly_count": len(found),
            "checks_skipped": skipped,
        },
    )
