"""What the simulator knows about a symbol: its assets, filters and a realistic price scale.

Known majors use the exchange's real filters (tickSize/stepSize as recorded in August 2024);
any other symbol gets a deterministic scale derived from a stable hash of its name, so that
``ABCUSDT`` always trades near the same price in every run and every process.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

from shared.fixedpoint import SCALE

QUOTE_ASSETS = ("FDUSD", "USDT", "USDC", "TUSD", "BUSD", "EUR", "TRY", "BTC", "ETH", "BNB")

# symbol → (reference price, tickSize, stepSize), scaled by 1e8
_KNOWN: dict[str, tuple[int, int, int]] = {
    "BTCUSDT": (60_000 * SCALE, 1_000_000, 1_000),
    "ETHUSDT": (2_600 * SCALE, 1_000_000, 10_000),
    "BNBUSDT": (550 * SCALE, 1_000_000, 100_000),
    "SOLUSDT": (150 * SCALE, 1_000_000, 100_000),
    "XRPUSDT": (55_000_000, 10_000, 10_000_000),
    "DOGEUSDT": (12_000_000, 1_000, 100_000_000),
}


@dataclass(frozen=True, slots=True)
class Instrument:
    """Static facts about one symbol, all prices and quantities scaled by 1e8."""

    symbol: str
    base_asset: str
    quote_asset: str
    tick: int  # PRICE_FILTER tickSize
    step: int  # LOT_SIZE stepSize
    ref_price: int  # where the synthetic market starts
    ref_qty: int  # a typical resting order size (about 2,000 quote units)

    def round_price(self, price: int) -> int:
        return max(self.tick, price - price % self.tick)

    def round_qty(self, qty: int) -> int:
        return max(self.step, qty - qty % self.step)


def symbol_hash(symbol: str) -> int:
    """A hash that is the same in every process (Python's ``hash`` of a str is salted)."""
    return zlib.crc32(symbol.encode("ascii"))


def split_assets(symbol: str) -> tuple[str, str]:
    for quote in QUOTE_ASSETS:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    return symbol[:-3], symbol[-3:]


def instrument_for(symbol: str) -> Instrument:
    """The instrument of a (validated, upper-case) symbol."""
    base, quote = split_assets(symbol)
    if symbol in _KNOWN:
        price, tick, step = _KNOWN[symbol]
    else:
        # log10(price) uniform in [-1, 4): from 0.1 to 10,000 quote units.
        fraction = (symbol_hash(symbol) % 10_000) / 10_000
        price_float = 10 ** (-1 + 5 * fraction)
        # About five significant digits of price, and a step that makes ~2,000 quote units
        # a round number of steps.
        tick = 10 ** max(-8, math.floor(math.log10(price_float)) - 4)
        step = 10 ** max(-8, min(0, math.floor(math.log10(2_000 / price_float)) - 3))
        tick, step = round(tick * SCALE), round(step * SCALE)
        price = max(tick * 100, round(price_float * SCALE) // tick * tick)
    ref_qty = max(step, (2_000 * SCALE * SCALE // price) // step * step)
    return Instrument(symbol, base, quote, tick, step, price, ref_qty)
