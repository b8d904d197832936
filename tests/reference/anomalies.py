"""detect_market_anomalies as docs/analytics.md defines it."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from math import comb
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
    fixed,
    median,
    of_seconds,
    percentile,
    two_sided,
)

Pair = tuple[BookSnapshot, BookSnapshot]
HALF = Decimal("0.5")


def log10(x: int) -> Decimal:
    return Decimal(x).log10()


def rate_evidence(k: int, n_b: int, tw: int, tb: int) -> Decimal:
    """-log10 P(X >= k), X ~ Binomial(k + n_b, tw / (tw + tb)), from exact integers."""
    if k <= 0 or tw <= 0 or tb <= 0:
        return Decimal(0)
    n = k + n_b
    tail = sum(comb(n, x) * tw**x * tb ** (n - x) for x in range(k, n + 1))
    return max(Decimal(0), log10((tw + tb) ** n) - log10(tail))


def share_evidence(hits: int, successes: int, base_hits: int, base_successes: int) -> Decimal:
    """Fisher's exact test, one-sided: -log10 P(>= successes of hits)."""
    if successes <= 0 or hits <= 0:
        return Decimal(0)
    population, good = hits + base_hits, successes + base_successes
    tail = sum(
        comb(good, x) * comb(population - good, hits - x)
        for x in range(successes, min(good, hits) + 1)
    )
    return max(Decimal(0), log10(comb(population, hits)) - log10(tail))


def corrected(e: Decimal, tests: int) -> Decimal:
    return max(Decimal(0), e - log10(max(tests, 1)))


def confidence_from(e: Decimal) -> Decimal:
    return clamp(HALF + HALF * (e - 4) / 8)


def severity(c: Decimal) -> str:
    if c > Decimal("0.95"):
        return "Critical"
    if c > Decimal("0.85"):
        return "High"
    if c > Decimal("0.7"):
        return "Medium"
    return "Low"


def record(symbol: str, kind: str, c: Decimal, second: int, prices: list[int], evidence: dict):
    digest = hashlib.sha1(f"{symbol}|{kind}|{second}|{prices}".encode()).hexdigest()[:16]
    return {
        "anomaly_id": digest,
        "type": kind,
        "anomaly_type": kind,
        "severity": severity(c),
        "confidence": c,
        "confidence_score": c,
        "detection_timestamp": second,
        "affected_price_levels": [fixed(d(p)) for p in prices],
        "recommended_action": kind,  # wording is the code's; compared by type
        "evidence": evidence,
    }


def mean(xs: list) -> Decimal:
    return sum((Decimal(x) for x in xs), Decimal(0)) / len(xs)


class Market:
    """The window, its baseline, their pairs and the trades between each pair's books."""

    def __init__(self, snaps: list[BookSnapshot], trades: list[Trade], start: int, end: int):
        self.start, self.end = start, end
        books = books_in(snaps, start - 600, end)
        self.books = {b.second: b for b in books}
        pairs = consecutive(books)
        self.window = [b for b in books if b.second >= start and two_sided(b)]
        self.baseline = [b for b in books if b.second < start and two_sided(b)]
        self.window_pairs = [p for p in pairs if p[1].second >= start]
        self.baseline_pairs = [p for p in pairs if p[1].second < start]
        self.moved = {b.second: between(trades, a, b) for a, b in pairs}

    def traded(self, second: int, bids: bool) -> dict[int, int]:
        """Quantity per price that hit the bids (taker sells) or the asks, book s-1 to s."""
        out: dict[int, int] = {}
        for t in self.moved.get(second, []):
            if t.buyer_maker == bids:
                out[t.price] = out.get(t.price, 0) + t.qty
        return out


def stuffing(symbol: str, m: Market, skipped: dict) -> list[dict]:
    if len(m.baseline_pairs) < 60:
        skipped["quote_stuffing"] = True
        return []
    if len(m.window_pairs) < 5:
        skipped["quote_stuffing"] = True
        return []
    base = [max(0, b.update_id - a.update_id) for a, b in m.baseline_pairs]
    window = [max(0, b.update_id - a.update_id) for a, b in m.window_pairs]
    base_rate = max(mean(base), Decimal(1))
    rate = mean(window)
    ratio = rate / base_rate
    base_trades = sum(len(m.moved.get(b.second, [])) for _, b in m.baseline_pairs)
    window_trades = sum(len(m.moved.get(b.second, [])) for _, b in m.window_pairs)
    base_tpu = Decimal(base_trades) / max(sum(base), 1)
    tpu = Decimal(window_trades) / max(sum(window), 1)
    if ratio < 5 or not (tpu <= HALF * base_tpu or window_trades == 0):
        return []
    c = clamp(HALF + HALF * (ratio / 5).ln() / Decimal(4).ln())
    a, peak = max(m.window_pairs, key=lambda p: (p[1].update_id - p[0].update_id, p[1].second))
    prices = ([peak.bids[0][0]] if peak.bids else []) + ([peak.asks[0][0]] if peak.asks else [])
    return [
        record(
            symbol,
            "QuoteStuffing",
            c,
            peak.second,
            prices,
            {
                "window_update_rate": rate,
                "baseline_update_rate": base_rate,
                "rate_ratio": ratio,
                "window_trades": window_trades,
                "window_trades_per_update": tpu,
                "baseline_trades_per_update": base_tpu,
                "peak_second": peak.second,
                "peak_update_rate": peak.update_id - a.update_id,
            },
        )
    ]


def heavy_hits(m: Market, pairs: list[Pair]) -> dict[tuple[str, int], list[tuple]]:
    hits: dict[tuple[str, int], list[tuple]] = {}
    for a, b in pairs:
        for side, bids in (("bid", True), ("ask", False)):
            old = dict(a.bids if bids else a.asks)
            new = dict(b.bids if bids else b.asks)
            for price, traded in m.traded(b.second, bids).items():
                shown = old.get(price, 0)
                if shown and traded >= HALF * shown:
                    refilled = new.get(price, 0) >= shown
                    hits.setdefault((side, price), []).append((b.second, traded, shown, refilled))
    return hits


def icebergs(symbol: str, m: Market, skipped: dict) -> list[dict]:
    if len(m.baseline_pairs) < 60:
        skipped["iceberg"] = True
        return []
    base = [h for hs in heavy_hits(m, m.baseline_pairs).values() for h in hs]
    if len(base) < 20:
        skipped["iceberg"] = True
        return []
    base_refills = sum(1 for h in base if h[3])
    window = heavy_hits(m, m.window_pairs)
    tests = len(window)
    found = []
    for (side, price), hits in window.items():
        refills = [h for h in hits if h[3]]
        if len(refills) < 3:
            continue
        e = corrected(share_evidence(len(hits), len(refills), len(base), base_refills), tests)
        if e < 4:
            continue
        c = confidence_from(e)
        traded = sum(h[1] for h in refills)
        shown = sum(h[2] for h in refills)
        found.append(
            (
                (-c, side, price),
                record(
                    symbol,
                    "IcebergOrder",
                    c,
                    refills[-1][0],
                    [price],
                    {
                        "side": side,
                        "refill_count": len(refills),
                        "heavy_hits": len(hits),
                        "seconds": [h[0] for h in refills][:20],
                        "traded_volume": d(traded),
                        "mean_displayed_qty": d(shown) / len(refills),
                        "traded_to_displayed": Decimal(traded) / shown,
                        "refill_share": Decimal(len(refills)) / len(hits),
                        "baseline_heavy_hits": len(base),
                        "baseline_refills": base_refills,
                        "baseline_refill_share": Decimal(base_refills) / len(base),
                        "levels_tested": tests,
                        "p_value": Decimal(10) ** -e,
                        "evidence_log10": e,
                    },
                ),
            )
        )
    found.sort(key=lambda x: x[0])
    return [r for _, r in found[:5]]


def depth(b: BookSnapshot) -> Decimal:
    return sum((d(p) * d(q) for p, q in (*b.bids[:20], *b.asks[:20])), Decimal(0))


def spread(b: BookSnapshot) -> Decimal:
    pb, pa = d(b.bids[0][0]), d(b.asks[0][0])
    return (pa - pb) / ((pa + pb) / 2) * BPS


def flash(symbol: str, m: Market, skipped: dict) -> list[dict]:
    if len(m.baseline) < 60:
        skipped["flash_crash_risk"] = True
        return []
    depths = [depth(b) for b in m.baseline]
    spreads = [spread(b) for b in m.baseline]
    base_depth, base_spread = median(depths), median(spreads)
    if base_depth <= 0 or base_spread <= 0:
        return []
    depth_line = min(HALF, percentile(depths, Decimal("0.01")) / base_depth)
    spread_line = max(Decimal(2), percentile(spreads, Decimal("0.99")) / base_spread)

    def stress(b: BookSnapshot) -> tuple[Decimal, Decimal] | None:
        x, w = depth(b) / base_depth, spread(b) / base_spread
        return (x, w) if x <= depth_line and w >= spread_line else None

    base_stressed = sum(1 for b in m.baseline if stress(b) is not None)
    stressed = [(b, *s) for b in m.window if (s := stress(b)) is not None]
    if len(stressed) < 3 or Decimal(len(stressed)) / len(m.window) < 5 * (
        Decimal(base_stressed) / len(m.baseline)
    ):
        return []
    worst = min(stressed, key=lambda x: (x[1] / x[2], x[0].second))
    d_min = min(x for _, x, _ in stressed)
    w_max = max(w for _, _, w in stressed)
    c = clamp(
        HALF
        + clamp((depth_line - d_min) / Decimal("0.4")) / 4
        + clamp((w_max / spread_line).ln() / Decimal(5).ln()) / 4
    )
    b = worst[0]
    return [
        record(
            symbol,
            "FlashCrashRisk",
            c,
            b.second,
            [b.bids[0][0], b.asks[0][0]],
            {
                "stressed_seconds": len(stressed),
                "baseline_stressed_seconds": base_stressed,
                "depth_loss_pct": 100 * (1 - d_min),
                "spread_multiplier": w_max,
                "depth_line": depth_line,
                "spread_line": spread_line,
                "baseline_depth_notional": base_depth,
                "baseline_spread_bps": base_spread,
                "worst_second": b.second,
            },
        )
    ]


def follow(m: Market, side: str, price: int, base: int, added: int, at: int, last: int):
    """(vanished second, traded) if the addition left untraded and unmoved, else None."""
    bids = side == "bid"
    traded = 0
    for second in range(at + 1, min(at + 5, last) + 1):
        snap, prev = m.books.get(second), m.books.get(second - 1)
        if snap is None or prev is None:
            return None
        levels = snap.bids if bids else snap.asks
        if not levels or (price < levels[-1][0] if bids else price > levels[-1][0]):
            return None
        traded += m.traded(second, bids).get(price, 0)
        if dict(levels).get(price, 0) - base > Decimal("0.2") * added:
            continue
        if traded >= Decimal("0.2") * added:
            return None
        old = dict(prev.bids if bids else prev.asks)
        for p, q in levels:
            if p != price and q - old.get(p, 0) >= Decimal("0.8") * added:
                return None
        return second, traded
    return None


def events_of(m: Market, typical: Decimal, pairs: list[Pair], last: int) -> list[dict[str, Any]]:
    found = []
    for a, b in pairs:
        if not two_sided(b):
            continue
        mid = Decimal(b.bids[0][0] + b.asks[0][0]) / 2
        for side, old_levels, new_levels in (("bid", a.bids, b.bids), ("ask", a.asks, b.asks)):
            old = dict(old_levels)
            for price, qty in new_levels:
                added = qty - old.get(price, 0)
                if added <= 0:
                    continue
                if abs(price - new_levels[0][0]) / mid * BPS > 10 or added < 10 * typical:
                    continue
                end = follow(m, side, price, old.get(price, 0), added, b.second, last)
                if end is not None:
                    found.append(
                        {"side": side, "price": price, "added": added, "at": b.second, "end": end}
                    )
    return found


def spoofing(symbol: str, m: Market, skipped: dict) -> list[dict]:
    if len(m.baseline_pairs) < 180:
        skipped["spoofing"] = True
        return []
    base_last, last = m.start - 1, m.end - 1
    base_pairs = [p for p in m.baseline_pairs if p[1].second + 5 <= base_last]
    window_pairs = [p for p in m.window_pairs if p[1].second + 5 <= last]
    base_span, span = len(base_pairs), len(window_pairs)
    sizes = [Decimal(q) for b in (*m.baseline, *m.window) for s in (b.bids, b.asks) for _, q in s]
    typical = median(sizes)
    if typical <= 0 or span == 0:
        return []
    base_events = events_of(m, typical, base_pairs, base_last)
    events = events_of(m, typical, window_pairs, last)
    largest = max((e["added"] for e in base_events), default=0)
    outsized = 2 * max(Decimal(largest), 10 * typical)
    found = []
    for side in ("bid", "ask"):
        mine = sorted(
            (e for e in events if e["side"] == side),
            key=lambda e: (-e["added"], e["at"], e["price"]),
        )
        theirs = [e for e in base_events if e["side"] == side]
        rate_ratio = (Decimal(len(mine)) / span) / (Decimal(max(len(theirs), 1)) / base_span)
        by_rate = rate_evidence(len(mine), len(theirs), span, base_span)
        big = sum(1 for e in mine if e["added"] >= outsized)
        by_size = rate_evidence(
            big, sum(1 for e in theirs if e["added"] >= outsized), span, base_span
        )
        strength = corrected(max(by_rate if rate_ratio >= 3 else Decimal(0), by_size), 2)
        if strength < 4:
            continue
        top = mine[:5]
        theirs_sizes = [d(e["added"]) for e in theirs]
        found.append(
            record(
                symbol,
                "SpoofingLike",
                confidence_from(strength),
                top[0]["at"],
                sorted({e["price"] for e in top}),
                {
                    "side": side,
                    "events": len(mine),
                    "window_seconds": span,
                    "window_rate_per_min": Decimal(60 * len(mine)) / span,
                    "baseline_events": len(theirs),
                    "baseline_seconds": base_span,
                    "baseline_rate_per_min": Decimal(60 * len(theirs)) / base_span,
                    "rate_ratio": rate_ratio,
                    "rate_p_value": Decimal(10) ** -by_rate,
                    "median_level_qty": typical / 10**8,
                    "baseline_median_event_qty": median(theirs_sizes)
                    if theirs_sizes
                    else Decimal(0),
                    "baseline_largest_event_qty": d(largest),
                    "outsized_qty": outsized / 10**8,
                    "outsized_events": big,
                    "size_p_value": Decimal(10) ** -by_size,
                    "evidence_log10": strength,
                    "largest": [
                        {
                            "price": d(e["price"]),
                            "added_qty": d(e["added"]),
                            "multiple_of_median_level": e["added"] / typical,
                            "appeared_second": e["at"],
                            "lifetime_seconds": e["end"][0] - e["at"],
                            "traded_at_price": d(e["end"][1]),
                        }
                        for e in top
                    ],
                },
            )
        )
    return found


def anomalies(snaps: list[BookSnapshot], trades: list[Trade], start: int, end: int) -> dict:
    m = Market(snaps, trades, start, end)
    if len(m.window) < 2:
        raise RefInsufficient("two-sided snapshots")
    symbol = m.window[0].symbol
    skipped: dict[str, bool] = {}
    found = [
        *stuffing(symbol, m, skipped),
        *icebergs(symbol, m, skipped),
        *flash(symbol, m, skipped),
        *spoofing(symbol, m, skipped),
    ]
    return {
        "symbol": symbol,
        "window_start": start,
        "window_end": end,
        "window_seconds": end - start,
        "snapshots_used": len(m.window),
        "trades_used": len(of_seconds(trades, start, end)),
        "baseline_snapshots": len(m.baseline),
        "baseline_seconds": len(m.baseline_pairs),
        "anomalies": found,
        "anomaly_count": len(found),
        "checks_skipped": skipped,
    }
