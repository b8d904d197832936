"""get_volume_profile: traded volume per price bin, point of control and 70% value area.

Volumes are summed as exact scaled ints, so the bins, the POC and the value area do not depend
on the order of the rows (per-minute pre-aggregated rows or raw trades give the same answer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from math import gcd
from typing import NamedTuple

from query.analytics.errors import InsufficientData, ParameterError
from query.analytics.window import check_span, header
from shared.fixedpoint import SCALE, format_fixed
from shared.model import Trade
from shared.volume import Volume

MIN_TRADES = 10  # fewer trades give no meaningful distribution
MAX_AUTO_BINS = 100  # automatic bins: between ~50 and 100 unless the range is under 50 ticks
MAX_BINS = 2000  # an explicit tick_size may not ask for more bins than this
VALUE_AREA_PERCENT = 70


class PriceVolume(NamedTuple):
    """Traded volume at one exact price (scaled ints); rows may repeat a price (per minute)."""

    price: int
    qty: int
    trades: int
    taker_buy_qty: int


def rows_from_trades(trades: Iterable[Trade]) -> list[PriceVolume]:
    """Aggregate trades into one PriceVolume per exact price, sorted by price."""
    listed = list(trades)
    volume = Volume.of_trades(
        [t.price for t in listed], [t.qty for t in listed], [t.buyer_maker for t in listed]
    )
    return [PriceVolume(*row) for row in volume.rows()]


def derive_symbol_tick(prices: Iterable[int]) -> int:
    """Estimate the exchange tick as the gcd of the observed prices (a multiple of the tick).

    Every price is a multiple of the true tick, so the gcd is too; with a few dozen distinct
    prices it is almost always the tick itself.
    """
    tick = 0
    for price in prices:
        tick = gcd(tick, price)
        if tick == 1:
            break
    if tick <= 0:
        raise InsufficientData("prices", 0, 1, "no price to derive the symbol tick from")
    return tick


def auto_bin_size(low: int, high: int, tick: int) -> int:
    """The smallest tick multiple b that gives at most MAX_AUTO_BINS aligned bins for any span
    of ``high - low`` wherever it falls on the grid: ``span < (MAX_AUTO_BINS - 1) * b``.

    Aligned bins over a span s number at most ``floor(s / b) + 2`` (both ends may straddle a
    bin edge), and exactly that many for some placement, hence ``floor(s / b) <= MAX - 2``.
    """
    return ((high - low) // (tick * (MAX_AUTO_BINS - 1)) + 1) * tick


def pick_poc(volumes: list[int]) -> int:
    """Index of the bin with the most volume; ties go to the bin nearest the middle, then lower."""
    top = max(volumes)
    middle2 = len(volumes) - 1  # twice the middle index, to stay in integers
    candidates = [i for i, v in enumerate(volumes) if v == top]
    return min(candidates, key=lambda i: (abs(2 * i - middle2), i))


def value_area(volumes: list[int], poc: int) -> tuple[int, int]:
    """(first, last) bin index of the 70% value area grown from the POC two bins at a time.

    Market Profile rule: compare the sum of the next two bins above with the next two below and
    add the larger pair; on a tie add both pairs (symmetric and deterministic). Near an edge a
    "pair" is whatever is left on that side.
    """
    total = sum(volumes)
    first = last = poc
    inside = volumes[poc]
    while inside * 100 < total * VALUE_AREA_PERCENT:
        above = volumes[last + 1 : last + 3]
        below = volumes[max(0, first - 2) : first]
        if not above and not below:
            break
        take_above = bool(above) and (not below or sum(above) >= sum(below))
        take_below = bool(below) and (not above or sum(below) >= sum(above))
        if take_above:
            last += len(above)
            inside += sum(above)
        if take_below:
            first -= len(below)
            inside += sum(below)
    return first, last


def check_profile_args(
    symbol: str, start: int, end: int, tick_size: int | None, symbol_tick: int | None
) -> str:
    """The validated symbol; ParameterError for a bad span, tick_size or symbol_tick."""
    symbol = check_span(symbol, start, end)
    for name, value in (("tick_size", tick_size), ("symbol_tick", symbol_tick)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value <= 0
        ):
            raise ParameterError(name, f"must be a positive scaled int or None, got {value!r}")
    return symbol


def choose_bins(
    low: int,
    high: int,
    tick_size: int | None,
    symbol_tick: int | None,
    derive: Callable[[], int],
) -> tuple[int, str, int | None, int, int]:
    """(bin_size, its source, tick, first bin number, bin count) for prices low..high.

    ``derive`` gives the gcd tick of the prices, asked for when no symbol tick is given.
    """
    tick = symbol_tick if symbol_tick is not None else derive()
    if tick_size is not None:
        check_bin_size(tick_size, tick, low, high, derived=symbol_tick is None)
        bin_size, source = tick_size, "tick_size"
    else:
        bin_size = auto_bin_size(low, high, tick)
        source = "symbol_tick" if symbol_tick is not None else "derived_tick"
    first_bin = low // bin_size
    count = high // bin_size - first_bin + 1
    if count > MAX_BINS:
        # Suggest the smallest multiple of the requested size that fits.
        wider = -(-(high - low) // (bin_size * (MAX_BINS - 2))) * bin_size
        raise ParameterError(
            "tick_size",
            f"{format_fixed(bin_size)} gives {count} bins over {format_fixed(low)}.."
            f"{format_fixed(high)}; at most {MAX_BINS} allowed, use at least {format_fixed(wider)}",
        )
    return bin_size, source, tick, first_bin, count


def check_bin_size(tick_size: int, tick: int, low: int, high: int, *, derived: bool) -> None:
    """ParameterError unless tick_size is a whole multiple of the tick within the traded range.

    A bin that is not a multiple holds one tick price more or less in turn (a sawtooth
    histogram and a wrong POC), a bin finer than the tick changes the value area, and a bin
    wider than every traded price gives one bin reaching far past them: all rejected, never
    rounded, so the reply is always for the bins asked for.
    """
    what = "the symbol tick" + (" (the gcd of the traded prices)" if derived else "")
    if tick_size % tick:
        below, above = tick_size // tick * tick, -(-tick_size // tick) * tick
        nearest = " or ".join(format_fixed(v) for v in (below, above) if v > 0)
        raise ParameterError(
            "tick_size",
            f"{format_fixed(tick_size)} must be a multiple of {what} {format_fixed(tick)};"
            f" nearest: {nearest}",
        )
    widest = high - low + tick
    if tick_size > widest:
        raise ParameterError(
            "tick_size",
            f"{format_fixed(tick_size)} is wider than the traded prices {format_fixed(low)}.."
            f"{format_fixed(high)}: at most {format_fixed(widest)}",
        )


class BinColumns(NamedTuple):
    """Per-bin sums (exact Python ints) and each bin's most traded price."""

    volumes: list[int]
    counts: list[int]
    buys: list[int]
    best_price: list[int]


def profile_result(
    symbol: str,
    start: int,
    end: int,
    *,
    summary: tuple[int, int, int, int],
    bins: tuple[int, str, int | None, int, int],
    columns: BinColumns,
) -> dict[str, object]:
    """The reply of both the row and the column path (so they cannot drift apart).

    ``summary`` is (low price, high price, distinct prices, trades); ``bins`` is choose_bins'.
    """
    low, high, distinct, total_trades = summary
    bin_size, source, tick, first_bin, count = bins
    volumes, counts, buys, best_price = columns
    total = sum(volumes)
    poc = pick_poc(volumes)
    va_first, va_last = value_area(volumes, poc)
    va_volume = sum(volumes[va_first : va_last + 1])
    histogram = [
        {
            "price_low": format_fixed((first_bin + i) * bin_size),
            "price_high": format_fixed((first_bin + i + 1) * bin_size),
            "price_level": ((first_bin + i) * bin_size + bin_size / 2) / SCALE,
            "volume": volumes[i] / SCALE,
            "trade_count": counts[i],
            "taker_buy_volume": buys[i] / SCALE,
            "taker_sell_volume": (volumes[i] - buys[i]) / SCALE,
        }
        for i in range(count)
    ]
    return header(
        symbol,
        start,
        end,
        snapshots=0,
        trades=total_trades,
        extra={
            "time_period_start": start,
            "time_period_end": end,
            "rows_used": distinct,
            "price_range_low": format_fixed(low),
            "price_range_high": format_fixed(high),
            "bin_size": format_fixed(bin_size),
            "bin_size_source": source,
            "symbol_tick": format_fixed(tick) if tick is not None else None,
            "bin_count": count,
            "histogram": histogram,
            "total_volume": total / SCALE,
            "total_volume_qty": format_fixed(total),
            "total_trades": total_trades,
            "minimum_trades": MIN_TRADES,
            "point_of_control": format_fixed(best_price[poc]),
            "poc_bin_low": format_fixed((first_bin + poc) * bin_size),
            "poc_bin_high": format_fixed((first_bin + poc + 1) * bin_size),
            "poc_volume": volumes[poc] / SCALE,
            "value_area_low": format_fixed((first_bin + va_first) * bin_size),
            "value_area_high": format_fixed((first_bin + va_last + 1) * bin_size),
            "value_area_volume": va_volume / SCALE,
            "value_area_percent": 100.0 * va_volume / total,
        },
    )
