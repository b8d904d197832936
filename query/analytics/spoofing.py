"""Spoofing-like behaviour: large near-touch orders that appear and vanish untraded.

Such orders are part of ordinary life on a busy book (BTCUSDT shows ~27 a minute), so the
window is judged against the symbol's own baseline: it is reported only when these events come
far more often than in the baseline, or far larger than any the baseline showed. An order that
vanishes because it was moved (the same size re-appears at another price of the same side in
the same second, as pegged market-maker quotes do when the touch moves) is a re-quote, not a
cancel, and is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from query.analytics.detectors import MAX_REPORTED_PER_TYPE, Context, Pair, anomaly, level_map
from query.analytics.evidence import (
    FIRE_EVIDENCE,
    confidence_from,
    corrected,
    p_value,
    rate_evidence,
)
from query.analytics.measures import BPS, safe_median
from query.analytics.window import two_sided
from shared.fixedpoint import SCALE
from shared.model import BookSnapshot, Level

SPOOF_SIZE_MULTIPLE = 10.0  # an order adding >= 10x the median level size ...
SPOOF_MAX_BPS = 10.0  # ... within 10 bps of the touch ...
SPOOF_MAX_LIFE = 5  # ... gone again within 5 seconds ...
SPOOF_MAX_TRADED = 0.2  # ... with less than 20% of it traded at that price ...
SPOOF_GONE = 0.8  # ("gone": at least 80% of the added size left the level)
SPOOF_MIN_BASELINE_SECONDS = 180  # judge only against >= 3 minutes of consecutive history
SPOOF_MIN_RATE_RATIO = 3.0  # the rate test needs >= 3x the baseline rate (real rates vary ~2x)
SPOOF_OUTSIZED = 2.0  # "outsized": >= 2x the largest event of the baseline
SPOOF_TESTS = 2  # rate and size test per side: Bonferroni factor


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


def follow(side: str, price: int, base: int, added: int, ctx: Context, **at: float) -> Event | None:
    """The event if the added size left the level untraded and unmoved within the lifetime.

    Only the snapshots of the event's own span (baseline or window, up to ``at["last"]``) are
    looked at, so baseline events never borrow the window's data.
    """
    traded = 0
    snaps: dict[int, BookSnapshot] = ctx.snaps_by_second
    appeared, typical, last = int(at["appeared"]), at["typical"], int(at["last"])
    for second in range(appeared + 1, min(appeared + SPOOF_MAX_LIFE, last) + 1):
        snap, prev = snaps.get(second), snaps.get(second - 1)
        if snap is None or prev is None:
            return None  # a gap: we cannot tell what happened
        levels = snap.bids if side == "bid" else snap.asks
        if not levels or (price < levels[-1][0] if side == "bid" else price > levels[-1][0]):
            return None  # scrolled out of view: not evidence of a cancel
        hit_bids, hit_asks = ctx.hits(second)
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


def followable(pairs: list[Pair], last: int) -> list[Pair]:
    """The pairs whose later second can be followed for the whole lifetime within ``last``.

    The window's last seconds cannot be followed (there is no data after it yet); the same rule
    for the baseline keeps both spans' event rates comparable (the exposure is the pairs kept).
    """
    return [p for p in pairs if p[1].second + SPOOF_MAX_LIFE <= last]


def find_events(ctx: Context, typical: float, pairs: list[Pair], last: int) -> list[Event]:
    """Every qualifying appear-and-vanish event that appeared in the given (followable) pairs."""
    events = []
    for before, after in pairs:
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
                    side,
                    price,
                    base,
                    added,
                    ctx,
                    appeared=after.second,
                    typical=typical,  # the median level size itself (was truncated to int)
                    last=last,
                )
                if event is not None:
                    events.append(event)
    return events


def spoofing(symbol: str, ctx: Context, skipped: dict[str, str]) -> list[dict[str, object]]:
    """One SpoofingLike record per side whose events are abnormal against the baseline."""
    if len(ctx.baseline_pairs) < SPOOF_MIN_BASELINE_SECONDS:
        # Cold start: without minutes of history "many" and "large" mean nothing.
        skipped["spoofing"] = (
            f"needs {SPOOF_MIN_BASELINE_SECONDS} consecutive baseline seconds,"
            f" have {len(ctx.baseline_pairs)}"
        )
        return []
    base_last, last = ctx.window_start - 1, ctx.window_end - 1
    base_pairs = followable(ctx.baseline_pairs, base_last)
    window_pairs = followable(ctx.window_pairs, last)
    base_span, span = len(base_pairs), len(window_pairs)
    sizes = [q for s in (*ctx.baseline, *ctx.window) for side in (s.bids, s.asks) for _, q in side]
    typical = safe_median(sizes)
    if typical <= 0 or span == 0:
        return []
    base_events = find_events(ctx, typical, base_pairs, base_last)
    events = find_events(ctx, typical, window_pairs, last)
    # Both sides' baseline events set the size scale: more data, and spoofers use either side.
    base_largest = max((e.added for e in base_events), default=0)
    outsized = SPOOF_OUTSIZED * max(base_largest, SPOOF_SIZE_MULTIPLE * typical)
    found = []
    for side in ("bid", "ask"):
        mine = sorted(
            (e for e in events if e.side == side), key=lambda e: (-e.added, e.appeared, e.price)
        )
        theirs = [e for e in base_events if e.side == side]
        rate_ratio = (len(mine) / span) / (max(len(theirs), 1) / base_span)
        by_rate = rate_evidence(len(mine), len(theirs), span, base_span)
        big = sum(1 for e in mine if e.added >= outsized)
        by_size = rate_evidence(big, sum(1 for e in theirs if e.added >= outsized), span, base_span)
        usable_rate = by_rate if rate_ratio >= SPOOF_MIN_RATE_RATIO else 0.0
        strength = corrected(max(usable_rate, by_size), SPOOF_TESTS)
        if strength < FIRE_EVIDENCE:
            continue
        top = mine[:MAX_REPORTED_PER_TYPE]
        theirs_sizes = [e.added / SCALE for e in theirs]
        found.append(
            anomaly(
                symbol,
                "SpoofingLike",
                confidence=confidence_from(strength),
                second=top[0].appeared,
                prices=sorted({e.price for e in top}),
                action="Large near-touch orders appear and vanish untraded far more than usual:"
                " distrust that depth.",
                evidence={
                    "side": side,
                    "events": len(mine),
                    "window_seconds": span,
                    "window_rate_per_min": 60.0 * len(mine) / span,
                    "baseline_events": len(theirs),
                    "baseline_seconds": base_span,
                    "baseline_rate_per_min": 60.0 * len(theirs) / base_span,
                    "rate_ratio": rate_ratio,
                    "rate_p_value": p_value(by_rate),
                    "median_level_qty": typical / SCALE,
                    "baseline_median_event_qty": safe_median(theirs_sizes),
                    "baseline_largest_event_qty": base_largest / SCALE,
                    "outsized_qty": outsized / SCALE,
                    "outsized_events": big,
                    "size_p_value": p_value(by_size),
                    "evidence_log10": strength,
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
