"""orderbook_l1 / orderbook_l2: the live book's touch, walls, slippage and levels."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from statistics import median

from query.analytics.errors import InsufficientData
from query.analytics.measures import BPS
from query.analytics.params import check_levels
from query.analytics.window import crossed
from shared.fixedpoint import SCALE, format_fixed
from shared.model import Level, LiveBook

WALL_MULTIPLE = 5.0  # a wall is a level at least 5x the median level size of its side
WALL_MIN_LEVELS = 5  # a median of fewer levels says nothing
MAX_WALLS = 5  # largest few per side
# Market orders of these fractions of the thinner side's visible quote notional: a fixed quote
# amount (10k USDT) means 10,000 BTC on ETHBTC, so sizes follow the book's own depth.
SLIPPAGE_FRACTIONS = (Fraction(1, 10), Fraction(1, 4), Fraction(1, 2))


def data_age(book: LiveBook, now_ms: int) -> dict[str, int]:
    """How old the book is: since we received it and since the exchange's event time."""
    return {"data_age_ms": now_ms - book.ts_recv, "event_age_ms": now_ms - book.ts_event}


def find_walls(levels: Sequence[Level], mid: float) -> tuple[float | None, list[dict[str, object]]]:
    """(median level size, walls): levels >= WALL_MULTIPLE x the side's median size."""
    if len(levels) < WALL_MIN_LEVELS:
        return None, []
    typical = median(q for _, q in levels)
    big = sorted((lv for lv in levels if lv[1] >= WALL_MULTIPLE * typical), key=lambda lv: -lv[1])
    walls: list[dict[str, object]] = [
        {
            "price": format_fixed(p),
            "qty": format_fixed(q),
            "multiple_of_median": q / typical,
            "distance_bps": abs(p / SCALE - mid) / mid * BPS,
        }
        for p, q in big
    ]
    return typical / SCALE, walls[:MAX_WALLS]


def visible_notional(levels: Sequence[Level]) -> int:
    """Quote value of every level shown on one side, exact (scaled by 10**16)."""
    return sum(p * q for p, q in levels)


def walk(
    levels: Sequence[Level], notional: Fraction, mid: Fraction, buy: bool
) -> dict[str, object]:
    """Fill a market order of ``notional`` (quote, scaled by 10**16) against the levels.

    Exact: whole levels are int sums, only the last, partly taken level is a fraction; so a
    bigger order never averages better by a rounding error. Floats only in the reply.
    """
    left = notional
    spent = bought = used = 0
    base = quote = Fraction(0)
    for price, qty in levels:
        if left <= 0:
            break
        used += 1
        cost = price * qty
        if cost < left:
            spent += cost
            bought += qty
            left -= cost
            continue
        base, quote = bought + left / price, spent + left
        left = Fraction(0)
        break
    else:
        base, quote = Fraction(bought), Fraction(spent)
    average = quote / base if base else None  # scaled price
    slip = None
    if average is not None:
        slip = float((average - mid) / mid * BPS if buy else (mid - average) / mid * BPS)
    return {
        "notional": float(notional / SCALE / SCALE),
        "filled_notional": float(quote / SCALE / SCALE),
        "filled_qty": float(base / SCALE),
        "average_price": None if average is None else float(average / SCALE),
        "slippage_bps": slip,
        "levels_consumed": used,
        "sufficient_depth": left == 0,
    }


def check_uncrossed(book: LiveBook) -> None:
    """InsufficientData when the best bid is at or above the best ask (not a market)."""
    if crossed(book.bids, book.asks):
        raise InsufficientData(
            "uncrossed books",
            0,
            1,
            f"the book is crossed: best bid {format_fixed(book.bids[0][0])}"
            f" >= best ask {format_fixed(book.asks[0][0])}",
        )


def orderbook_l1(book: LiveBook, *, now_ms: int) -> dict[str, object]:
    """Best bid/ask, mid, spread, weighted mid, imbalance, walls and slippage estimates."""
    if not book.bids or not book.asks:
        have = min(len(book.bids), len(book.asks))
        raise InsufficientData("levels on each side", have, 1, "the book has an empty side")
    check_uncrossed(book)
    (pb, qb), (pa, qa) = book.bids[0], book.asks[0]
    mid = (pb + pa) / 2 / SCALE
    weighted_mid = (pb * qa + pa * qb) / (qa + qb) / SCALE
    bid_median, bid_walls = find_walls(book.bids, mid)
    ask_median, ask_walls = find_walls(book.asks, mid)
    result: dict[str, object] = {
        "symbol": book.symbol,
        "update_id": book.update_id,
        "ts_event": book.ts_event,
        "ts_recv": book.ts_recv,
        **data_age(book, now_ms),
        "best_bid": format_fixed(pb),
        "best_bid_qty": format_fixed(qb),
        "best_ask": format_fixed(pa),
        "best_ask_qty": format_fixed(qa),
        "mid": mid,
        "spread": format_fixed(pa - pb),
        "spread_bps": (pa - pb) / ((pa + pb) / 2) * BPS,
        "weighted_mid": weighted_mid,
        "imbalance": (qb - qa) / (qb + qa),
        "levels": {"bids": len(book.bids), "asks": len(book.asks)},
        "walls": {
            "rule": f"qty >= {WALL_MULTIPLE:g} x median level qty of the side",
            "bid_median_qty": bid_median,
            "ask_median_qty": ask_median,
            "bids": bid_walls,
            "asks": ask_walls,
        },
        "slippage": slippage(book),
    }
    return result


def slippage(book: LiveBook) -> dict[str, object]:
    """Buy and sell walks for SLIPPAGE_FRACTIONS of the thinner side's visible notional."""
    depth = min(visible_notional(book.bids), visible_notional(book.asks))
    mid = Fraction(book.bids[0][0] + book.asks[0][0], 2)
    walks: dict[str, object] = {"reference_notional": depth / SCALE / SCALE}
    for side, levels, buy in (("buy", book.asks, True), ("sell", book.bids, False)):
        walks[side] = [
            {"depth_fraction": float(f), **walk(levels, f * depth, mid, buy)}
            for f in SLIPPAGE_FRACTIONS
        ]
    return walks


def cumulative(levels: Sequence[Level]) -> list[dict[str, str]]:
    """Levels as exact strings with running quantity totals."""
    total = 0
    rows = []
    for price, qty in levels:
        total += qty
        rows.append(
            {
                "price": format_fixed(price),
                "qty": format_fixed(qty),
                "cumulative_qty": format_fixed(total),
            }
        )
    return rows


def orderbook_l2(book: LiveBook, *, levels: int, now_ms: int) -> dict[str, object]:
    """The best ``levels`` levels per side with cumulative sizes."""
    levels = check_levels(levels)
    check_uncrossed(book)
    return {
        "symbol": book.symbol,
        "update_id": book.update_id,
        "ts_event": book.ts_event,
        "ts_recv": book.ts_recv,
        **data_age(book, now_ms),
        "levels_requested": levels,
        "levels_returned": {
            "bids": min(levels, len(book.bids)),
            "asks": min(levels, len(book.asks)),
        },
        "bids": cumulative(book.bids[:levels]),
        "asks": cumulative(book.asks[:levels]),
    }
