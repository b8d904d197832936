"""orderbook_l1 / orderbook_l2 as docs/analytics.md defines them."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from shared.model import LiveBook
from tests.reference.common import BPS, RefInsufficient, d, fixed, median


def to_decimal(x: Fraction) -> Decimal:
    return Decimal(x.numerator) / Decimal(x.denominator)


def ages(book: LiveBook, now_ms: int) -> dict[str, int]:
    return {"data_age_ms": now_ms - book.ts_recv, "event_age_ms": now_ms - book.ts_event}


def walls(levels: tuple, mid: Decimal) -> tuple[Decimal | None, list[dict[str, object]]]:
    if len(levels) < 5:
        return None, []
    typical = median([d(q) for _, q in levels])
    big = [(i, p, q) for i, (p, q) in enumerate(levels) if d(q) >= 5 * typical]
    big.sort(key=lambda x: (-x[2], x[0]))
    return typical, [
        {
            "price": fixed(d(p)),
            "qty": fixed(d(q)),
            "multiple_of_median": d(q) / typical,
            "distance_bps": abs(d(p) - mid) / mid * BPS,
        }
        for _, p, q in big[:5]
    ]


def walk(levels: tuple, notional: Fraction, mid: Fraction, buy: bool) -> dict[str, object]:
    """Spend ``notional`` (quote units) on the levels best first, exactly."""
    left, base, quote, used = notional, Fraction(0), Fraction(0), 0
    for p, q in levels:
        if left <= 0:
            break
        price, qty = Fraction(p, 10**8), Fraction(q, 10**8)
        take = min(qty, left / price)
        base += take
        quote += take * price
        left -= take * price
        used += 1
    average = quote / base if base else None
    slip = None
    if average is not None:
        slip = to_decimal(((average - mid) if buy else (mid - average)) / mid * 10_000)
    return {
        "notional": to_decimal(notional),
        "filled_notional": to_decimal(quote),
        "filled_qty": to_decimal(base),
        "average_price": None if average is None else to_decimal(average),
        "slippage_bps": slip,
        "levels_consumed": used,
        "sufficient_depth": left == 0,
    }


def l1(book: LiveBook, now_ms: int) -> dict[str, object]:
    if not book.bids or not book.asks or book.bids[0][0] >= book.asks[0][0]:
        raise RefInsufficient("a two-sided, uncrossed book")
    (pb, qb), (pa, qa) = (d(x) for x in book.bids[0]), (d(x) for x in book.asks[0])
    mid = (pb + pa) / 2
    bid_median, bid_walls = walls(book.bids, mid)
    ask_median, ask_walls = walls(book.asks, mid)
    depth = min(
        sum((Fraction(p * q, 10**16) for p, q in book.bids), Fraction(0)),
        sum((Fraction(p * q, 10**16) for p, q in book.asks), Fraction(0)),
    )
    exact_mid = Fraction(book.bids[0][0] + book.asks[0][0], 2 * 10**8)
    slippage: dict[str, object] = {"reference_notional": to_decimal(depth)}
    for side, levels, buy in (("buy", book.asks, True), ("sell", book.bids, False)):
        slippage[side] = [
            {
                "depth_fraction": Decimal(f.numerator) / f.denominator,
                **walk(levels, f * depth, exact_mid, buy),
            }
            for f in (Fraction(1, 10), Fraction(1, 4), Fraction(1, 2))
        ]
    return {
        "symbol": book.symbol,
        "update_id": book.update_id,
        "ts_event": book.ts_event,
        "ts_recv": book.ts_recv,
        **ages(book, now_ms),
        "best_bid": fixed(pb),
        "best_bid_qty": fixed(qb),
        "best_ask": fixed(pa),
        "best_ask_qty": fixed(qa),
        "mid": mid,
        "spread": fixed(pa - pb),
        "spread_bps": (pa - pb) / mid * BPS,
        "weighted_mid": (pb * qa + pa * qb) / (qa + qb),
        "imbalance": (qb - qa) / (qb + qa),
        "levels": {"bids": len(book.bids), "asks": len(book.asks)},
        "walls": {
            "rule": "qty >= 5 x median level qty of the side",
            "bid_median_qty": bid_median,
            "ask_median_qty": ask_median,
            "bids": bid_walls,
            "asks": ask_walls,
        },
        "slippage": slippage,
    }


def l2(book: LiveBook, levels: int, now_ms: int) -> dict[str, object]:
    if book.bids and book.asks and book.bids[0][0] >= book.asks[0][0]:
        raise RefInsufficient("an uncrossed book")

    def rows(side: tuple) -> list[dict[str, str]]:
        out, total = [], Decimal(0)
        for p, q in side[:levels]:
            total += d(q)
            out.append({"price": fixed(d(p)), "qty": fixed(d(q)), "cumulative_qty": fixed(total)})
        return out

    return {
        "symbol": book.symbol,
        "update_id": book.update_id,
        "ts_event": book.ts_event,
        "ts_recv": book.ts_recv,
        **ages(book, now_ms),
        "levels_requested": levels,
        "levels_returned": {
            "bids": min(levels, len(book.bids)),
            "asks": min(levels, len(book.asks)),
        },
        "bids": rows(book.bids),
        "asks": rows(book.asks),
    }
