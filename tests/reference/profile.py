"""get_volume_profile as docs/analytics.md defines it, straight from the trades."""

from __future__ import annotations

from decimal import Decimal
from math import gcd

from shared.model import Trade
from tests.reference.common import RefInsufficient, fixed

SCALE = 10**8


def price_rows(trades: list[tuple[int, int, bool]]) -> list[tuple[int, int, int, int]]:
    """(price, qty, buyer_maker) trades → per price, straight from the definition: (price, total
    qty, trade count, taker-buy qty), by price."""
    sums: dict[int, list[int]] = {}
    for price, qty, maker in trades:
        row = sums.setdefault(price, [0, 0, 0])
        row[0] += qty
        row[1] += 1
        row[2] += 0 if maker else qty
    return [(p, q, n, b) for p, (q, n, b) in sorted(sums.items())]


class RefParameter(Exception):
    """The reference's rejected parameter (production: ParameterError)."""


def volume_profile(
    trades: list[Trade], start: int, end: int, tick_size: int | None, symbol_tick: int | None
) -> dict[str, object]:
    qty: dict[int, int] = {}
    count: dict[int, int] = {}
    buy: dict[int, int] = {}
    for t in trades:
        qty[t.price] = qty.get(t.price, 0) + t.qty
        count[t.price] = count.get(t.price, 0) + 1
        buy[t.price] = buy.get(t.price, 0) + (0 if t.buyer_maker else t.qty)
    total_trades = sum(count.values())
    if total_trades < 10:
        raise RefInsufficient("trades")
    low, high = min(qty), max(qty)
    tick = symbol_tick
    source = "symbol_tick"
    if tick is None:
        tick = 0
        for p in qty:
            tick = gcd(tick, p)
        source = "derived_tick"
    if tick_size is not None:
        if tick_size % tick != 0 or tick_size > high - low + tick:
            raise RefParameter("tick_size")
        size, source = tick_size, "tick_size"
    else:
        k = 1
        while not (high - low) < 99 * k * tick:  # the smallest k with range < 99·k·t
            k += 1
        size = k * tick
    first, last = low // size, high // size
    if last - first + 1 > 2000:
        raise RefParameter("tick_size")
    bins = list(range(first, last + 1))
    vol = dict.fromkeys(bins, 0)
    trades_in = dict.fromkeys(bins, 0)
    buys = dict.fromkeys(bins, 0)
    for p, q in qty.items():
        vol[p // size] += q
        trades_in[p // size] += count[p]
        buys[p // size] += buy[p]
    volumes = [vol[k] for k in bins]
    top = max(volumes)
    middle = Decimal(len(bins) - 1) / 2
    poc = min((i for i, v in enumerate(volumes) if v == top), key=lambda i: (abs(i - middle), i))
    poc_bin = bins[poc]
    in_poc = [p for p in qty if p // size == poc_bin]
    poc_price = min(in_poc, key=lambda p: (-qty[p], p))
    total = sum(volumes)
    lo = hi = poc
    inside = volumes[poc]
    while inside * 100 < total * 70:
        above = volumes[hi + 1 : hi + 3]
        below = volumes[max(0, lo - 2) : lo]
        if not above and not below:
            break
        take_above = bool(above) and (not below or sum(above) >= sum(below))
        take_below = bool(below) and (not above or sum(below) >= sum(above))
        if take_above:
            hi += len(above)
            inside += sum(above)
        if take_below:
            lo -= len(below)
            inside += sum(below)
    va = sum(volumes[lo : hi + 1])

    def units(x: int) -> Decimal:
        return Decimal(x) / SCALE

    return {
        "symbol": "TESTUSDT",
        "window_start": start,
        "window_end": end,
        "window_seconds": end - start,
        "snapshots_used": 0,
        "trades_used": total_trades,
        "time_period_start": start,
        "time_period_end": end,
        "rows_used": len(qty),
        "price_range_low": fixed(units(low)),
        "price_range_high": fixed(units(high)),
        "bin_size": fixed(units(size)),
        "bin_size_source": source,
        "symbol_tick": fixed(units(tick)),
        "bin_count": len(bins),
        "histogram": [
            {
                "price_low": fixed(units(k * size)),
                "price_high": fixed(units((k + 1) * size)),
                "price_level": units(k * size) + units(size) / 2,
                "volume": units(vol[k]),
                "trade_count": trades_in[k],
                "taker_buy_volume": units(buys[k]),
                "taker_sell_volume": units(vol[k] - buys[k]),
            }
            for k in bins
        ],
        "total_volume": units(total),
        "total_volume_qty": fixed(units(total)),
        "total_trades": total_trades,
        "minimum_trades": 10,
        "point_of_control": fixed(units(poc_price)),
        "poc_bin_low": fixed(units(poc_bin * size)),
        "poc_bin_high": fixed(units((poc_bin + 1) * size)),
        "poc_volume": units(volumes[poc]),
        "value_area_low": fixed(units(bins[lo] * size)),
        "value_area_high": fixed(units((bins[hi] + 1) * size)),
        "value_area_volume": units(va),
        "value_area_percent": Decimal(100) * va / total,
    }
