"""orderbook_l1 / orderbook_l2: the live book's touch, walls, slippage and levels."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import median

from query.analytics.errors import InsufficientData
from query.analytics.measures import BPS
from query.analytics.params import check_levels
from shared.fixedpoint import SCALE, format_fixed
from shared.model import Level, LiveBook

WALL_MULTIPLE = 5.0  # a wall is a level at least 5x the median level size of its side
WALL_MIN_LEVELS = 5  # a median of fewer levels says nothing
MAX_WALLS = 5  # largest few per side
SLIPPAGE_NOTIONALS = (10_000, 25_000, 50_000)  # quote currency (USDT for *USDT symbols)


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


def walk(levels: Sequence[Level], notional: float, mid: float, buy: bool) -> dict[str, object]:
    """Fill a market order of ``notional`` quote units against the levels, best first."""
    left = notional
    base = quote = 0.0
    used = 0
    for price, qty in levels:
        p, q = price / SCALE, qty / SCALE
        take = min(q, left / p)
        base += take
        quote += take * p
        left -= take * p
        used += 1
        if left <= notional * 1e-12:
            left = 0.0
            break
    average = quote / base if base else None
    slip = None
    if average is not None:
        slip = (average - mid) / mid * BPS if buy else (mid - average) / mid * BPS
    return {
        "notional": notional,
        "filled_notional": quote,
        "filled_qty": base,
        "average_price": average,
        "slippage_bps": slip,
        "levels_consumed": used,
        "sufficient_depth": left == 0.0,
    }


def orderbook_l1(book: LiveBook, *, now_ms: int) -> dict[str, object]:
    """Best bid/ask, mid, spread, weighted mid, imbalance, walls and slippage estimates."""
    if not book.bids or not book.asks:
        have = min(len(book.bids), len(book.asks))
        raise InsufficientData("levels on each side", have, 1, "the book has an empty side")
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
        "slippage": {
            "buy": [walk(book.asks, float(n), mid, True) for n in SLIPPAGE_NOTIONALS],
            "sell": [walk(book.bids, float(n), mid, False) for n in SLIPPAGE_NOTIONALS],
        },
    }
    return result


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
