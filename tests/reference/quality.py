"""get_market_quality as docs/analytics.md defines it."""

from __future__ import annotations

from decimal import Decimal

from shared.model import BookSnapshot, Trade
from tests.reference.common import (
    BPS,
    RefInsufficient,
    between,
    books_in,
    cks_event,
    consecutive,
    d,
    two_sided,
)

PI = Decimal("3.14159265358979323846264338327950288419716939937510582097494")
YEAR = Decimal(365 * 86_400)


def mid(book: BookSnapshot) -> Decimal:
    return (d(book.bids[0][0]) + d(book.asks[0][0])) / 2


def mean(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)


def volatility(pairs: list[tuple[BookSnapshot, BookSnapshot]]) -> dict[str, object]:
    r = {b.second: (mid(b) / mid(a)).ln() for a, b in pairs}
    n = len(r)
    rv = sum((x * x for x in r.values()), Decimal(0))
    adjacent = [(x, r[s - 1]) for s, x in r.items() if s - 1 in r]
    m = len(adjacent)
    bv = PI / 2 * sum((abs(x) * abs(y) for x, y in adjacent), Decimal(0))
    return {
        "returns": n,
        "realized_variance": rv,
        "realized_volatility": rv.sqrt(),
        "realized_volatility_annualized": (rv / n * YEAR).sqrt(),
        "bipower_terms": m,
        "bipower_variation": bv,
        "bipower_volatility_annualized": (bv / m * YEAR).sqrt() if m else None,
        "jump_share": max(Decimal(0), 1 - (bv / m) / (rv / n)) if m and rv > 0 else None,
    }


def impact(pairs: list[tuple[BookSnapshot, BookSnapshot]], depth: int) -> dict[str, object]:
    xs, ys = [], []
    for a, b in pairs:
        e = cks_event(a, b)
        if e is not None:
            xs.append(e)
            ys.append(mid(b) - mid(a))
    n = len(xs)
    fit = None
    if n >= 2:
        mx, my = mean(xs), mean(ys)
        sxx = sum(((x - mx) ** 2 for x in xs), Decimal(0))
        syy = sum(((y - my) ** 2 for y in ys), Decimal(0))
        sxy = sum(((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)), Decimal(0))
        if sxx != 0:
            slope = sxy / sxx
            fit = (slope, my - slope * mx, sxy * sxy / (sxx * syy) if syy else Decimal(0))
    levels = []
    for level in range(1, min(depth, 10) + 1):
        events = [e for a, b in pairs if (e := cks_event(a, b, level)) is not None]
        levels.append({"level": level, "ofi": sum(events, Decimal(0)), "events": len(events)})
    return {
        "observations": n,
        "impact_slope": None if fit is None else fit[0],
        "impact_intercept": None if fit is None else fit[1],
        "r_squared": None if fit is None else fit[2],
        "ofi": sum(xs, Decimal(0)) if xs else None,
        "multi_level_ofi": levels,
    }


def execution(
    books: list[BookSnapshot],
    pairs: list[tuple[BookSnapshot, BookSnapshot]],
    trades: list[Trade],
    loaded: dict[int, BookSnapshot],
) -> dict[str, object]:
    result: dict[str, object] = {
        "quoted_spread": mean([d(b.asks[0][0]) - d(b.bids[0][0]) for b in books]),
        "quoted_spread_bps": mean(
            [(d(b.asks[0][0]) - d(b.bids[0][0])) / mid(b) * BPS for b in books]
        ),
        "touch_depth_bid": mean([d(b.bids[0][1]) for b in books]),
        "touch_depth_ask": mean([d(b.asks[0][1]) for b in books]),
    }
    rows = []  # (qty, D, price, mid met, the pair's earlier second)
    for a, b in pairs:
        for t in between(trades, a, b):
            rows.append((d(t.qty), -1 if t.buyer_maker else 1, d(t.price), mid(a), a.second))
    weight = sum((q for q, *_ in rows), Decimal(0))
    result["trades"] = len(rows)
    result["effective_spread_bps"] = (
        sum((q * 2 * s * (p - m) / m for q, s, p, m, _ in rows), Decimal(0)) / weight * BPS
        if weight
        else None
    )
    for h in (5, 30):
        later = [(q, s, p, m, mid(loaded[a + h])) for q, s, p, m, a in rows if a + h in loaded]
        total = sum((q for q, *_ in later), Decimal(0))
        result[f"trades_{h}s"] = len(later)
        result[f"realized_spread_{h}s_bps"] = (
            sum((q * 2 * s * (p - mh) / m for q, s, p, m, mh in later), Decimal(0)) / total * BPS
            if total
            else None
        )
        result[f"price_impact_{h}s_bps"] = (
            sum((q * 2 * s * (mh - m) / m for q, s, p, m, mh in later), Decimal(0)) / total * BPS
            if total
            else None
        )
    return result


def market_quality(
    snapshots: list[BookSnapshot], trades: list[Trade], start: int, end: int
) -> dict[str, object]:
    books = [b for b in books_in(snapshots, start - 1, end) if two_sided(b)]
    window = [b for b in books if b.second >= start]
    pairs = [(a, b) for a, b in consecutive(books) if b.second >= start]
    if len(window) < 2 or not pairs:
        raise RefInsufficient("pairs")
    depth = max(max(len(b.bids), len(b.asks)) for b in window)
    used = sum(len(between(trades, a, b)) for a, b in pairs)
    return {
        "symbol": books[0].symbol,
        "window_start": start,
        "window_end": end,
        "window_seconds": end - start,
        "snapshots_used": len(window),
        "trades_used": used,
        "pairs": len(pairs),
        "volatility": volatility(pairs),
        "price_impact": impact(pairs, depth),
        "execution": execution(window, pairs, trades, {b.second: b for b in books}),
    }
