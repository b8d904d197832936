"""get_market_quality: volatility, price impact and execution costs of one window.

Realised volatility and bipower variation of the 1-second mid (Andersen, Bollerslev, Diebold &
Labys 2003; Barndorff-Nielsen & Shephard 2004), the Cont-Kukanov-Stoikov (2014) regression of
mid changes on order-flow imbalance with multi-level OFI, and the quoted, effective and realised
spreads of the stored trades. Formulas: docs/analytics.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from query.analytics.errors import InsufficientData
from query.analytics.flow import ofi_event
from query.analytics.params import check_quality_window
from query.analytics.window import (
    History,
    Pair,
    by_second,
    check_span,
    consecutive_pairs,
    header,
    trades_by_pair,
    two_sided,
)
from shared.fixedpoint import SCALE
from shared.model import BookSnapshot, Level, Trade

# The second before the window gives the first return; trades after its last depth event.
HISTORY = History(snapshots=1, trades=1)
SECONDS_PER_YEAR = 365 * 86_400  # crypto trades around the clock
HORIZONS = (5, 30)  # seconds after a trade at which its realised spread is measured
MAX_OFI_LEVELS = 10  # multi-level OFI: levels 1..10 (or fewer, as stored)
BPS = 10_000.0


def mid2(snap: BookSnapshot) -> int:
    """Twice the mid (best bid + best ask), exact."""
    return snap.bids[0][0] + snap.asks[0][0]


def volatility(pairs: Sequence[Pair]) -> dict[str, object]:
    """Realised variance and bipower variation of the 1 s log mid returns of consecutive pairs."""
    # log1p of the exact relative change: ln(m2_s / m2_s-1) via the ratio loses ~7 digits when
    # one tick is 1e-10 of the price (found by the Decimal reference).
    returns = {b.second: math.log1p((mid2(b) - mid2(a)) / mid2(a)) for a, b in pairs}
    n = len(returns)
    rv = math.fsum(r * r for r in returns.values())
    adjacent = [(r, returns[s - 1]) for s, r in returns.items() if s - 1 in returns]
    bv = math.pi / 2 * math.fsum(abs(r) * abs(q) for r, q in adjacent)
    m = len(adjacent)
    return {
        "returns": n,
        "realized_variance": rv,
        "realized_volatility": math.sqrt(rv),
        "realized_volatility_annualized": math.sqrt(rv / n * SECONDS_PER_YEAR),
        "bipower_terms": m,
        "bipower_variation": bv,
        "bipower_volatility_annualized": math.sqrt(bv / m * SECONDS_PER_YEAR) if m else None,
        "jump_share": max(0.0, 1.0 - (bv / m) / (rv / n)) if m and rv > 0 else None,
    }


def regression(xs: Sequence[int], ys: Sequence[int]) -> tuple[float, float, float] | None:
    """(slope, intercept, R²) of ys on xs by least squares over exact ints; None if degenerate."""
    n = len(xs)
    sx, sy = sum(xs), sum(ys)
    sxx = sum(x * x for x in xs)
    syy = sum(y * y for y in ys)
    sxy = sum(x * y for x, y in zip(xs, ys, strict=True))
    vx, vy, cov = n * sxx - sx * sx, n * syy - sy * sy, n * sxy - sx * sy
    if n < 2 or vx == 0:
        return None
    slope = cov / vx
    r2 = (cov * cov) / (vx * vy) if vy else 0.0
    return slope, (sy - slope * sx) / n, r2


def price_impact(pairs: Sequence[Pair], depth: int) -> dict[str, object]:
    """CKS: Δmid per OFI over the pairs, and OFI per level over the stored levels."""
    xs, ys = [], []
    for a, b in pairs:
        event = ofi_event(a, b)
        if event is not None:
            xs.append(event)
            ys.append(mid2(b) - mid2(a))
    fit = regression(xs, ys)
    # Δmid = Δ(2·mid)/2 and both are scaled by SCALE: slope in quote units per base unit.
    levels = []
    for level in range(1, min(depth, MAX_OFI_LEVELS) + 1):
        events = [e for a, b in pairs if (e := ofi_event(a, b, level)) is not None]
        levels.append({"level": level, "ofi": sum(events) / SCALE, "events": len(events)})
    return {
        "observations": len(xs),
        "impact_slope": None if fit is None else fit[0] / 2,
        "impact_intercept": None if fit is None else fit[1] / 2 / SCALE,
        "r_squared": None if fit is None else fit[2],
        "ofi": sum(xs) / SCALE if xs else None,
        "multi_level_ofi": levels,
    }


def quoted(books: Sequence[BookSnapshot]) -> dict[str, object]:
    """Time-weighted (one stored second each) quoted spread and touch depth."""
    n = len(books)
    return {
        "quoted_spread": math.fsum((b.asks[0][0] - b.bids[0][0]) / SCALE for b in books) / n,
        "quoted_spread_bps": math.fsum(
            2 * (b.asks[0][0] - b.bids[0][0]) / mid2(b) * BPS for b in books
        )
        / n,
        "touch_depth_bid": math.fsum(b.bids[0][1] / SCALE for b in books) / n,
        "touch_depth_ask": math.fsum(b.asks[0][1] / SCALE for b in books) / n,
    }


def signed_sums(trades: Iterable[Trade]) -> tuple[int, int, int]:
    """(Σ q·D·p, Σ q·D, Σ q) of trades, exact; D = +1 for a taker buy, -1 for a taker sell."""
    value = signed = total = 0
    for trade in trades:
        q = trade.qty
        total += q
        if trade.buyer_maker:
            value -= q * trade.price
            signed -= q
        else:
            value += q * trade.price
            signed += q
    return value, signed, total


def execution(
    pairs: Sequence[Pair], paired: dict[int, list[Trade]], books: dict[int, BookSnapshot]
) -> dict[str, object]:
    """Quantity-weighted effective spread, and realised spread / price impact at each horizon.

    A trade between books s-1 and s met the book s-1 (twice its mid: m2); h seconds later twice
    the mid is that of book s-1+h (mh2). Per trade ``2·D·(p − m)/m = 2·D·(2p − m2)/m2``, so the
    trades of one pair sum exactly as ``2·(2·Σ qDp − m2·Σ qD)/m2`` (one rounding per pair).
    """
    count = weight = 0
    effective: list[float] = []
    later: dict[int, list[tuple[int, float, float]]] = {h: [] for h in HORIZONS}
    for a, b in pairs:
        trades = paired.get(b.second)
        if not trades:
            continue
        value, signed, total = signed_sums(trades)
        m2 = mid2(a)
        count += len(trades)
        weight += total
        effective.append(2 * (2 * value - m2 * signed) / m2)
        for h in HORIZONS:
            future = books.get(a.second + h)
            if future is not None:
                mh2 = mid2(future)
                later[h].append(
                    (
                        total,
                        2 * (2 * value - mh2 * signed) / m2,
                        2 * (mh2 - m2) * signed / m2,
                    )
                )
    result: dict[str, object] = {
        "trades": count,
        "effective_spread_bps": math.fsum(effective) / weight * BPS if weight else None,
    }
    for h, rows in later.items():
        total = sum(q for q, _, _ in rows)
        result[f"trades_{h}s"] = sum(
            len(paired[b.second]) for a, b in pairs if b.second in paired and a.second + h in books
        )
        result[f"realized_spread_{h}s_bps"] = (
            math.fsum(r for _, r, _ in rows) / total * BPS if total else None
        )
        result[f"price_impact_{h}s_bps"] = (
            math.fsum(i for _, _, i in rows) / total * BPS if total else None
        )
    return result


def stored_depth(levels: Iterable[Sequence[Level]]) -> int:
    """The most levels any side holds."""
    return max((len(side) for side in levels), default=0)


def get_market_quality(
    snapshots: Iterable[BookSnapshot],
    trades: Iterable[Trade],
    *,
    symbol: str,
    window_start: int,
    window_end: int,
) -> dict[str, object]:
    """Volatility, price impact and execution costs of [window_start, window_end)."""
    symbol = check_span(symbol, window_start, window_end)
    check_quality_window(window_end - window_start)
    books = [s for s in by_second(snapshots, window_start - 1, window_end) if two_sided(s)]
    in_window = [s for s in books if s.second >= window_start]
    pairs = [p for p in consecutive_pairs(books) if p[1].second >= window_start]
    if len(in_window) < 2 or not pairs:
        raise InsufficientData(
            "consecutive two-sided snapshot pairs", len(pairs), 1, f"{len(in_window)} books"
        )
    paired = trades_by_pair(pairs, trades)
    by_sec = {s.second: s for s in books}
    depth = stored_depth(side for s in in_window for side in (s.bids, s.asks))
    return header(
        symbol,
        window_start,
        window_end,
        snapshots=len(in_window),
        trades=sum(len(t) for t in paired.values()),
        extra={
            "pairs": len(pairs),
            "volatility": volatility(pairs),
            "price_impact": price_impact(pairs, depth),
            "execution": {**quoted(in_window), **execution(pairs, paired, by_sec)},
        },
    )
