"""The records that travel between booksnap's processes.

Prices and quantities are exact ints scaled by 10**8 (see ``shared.fixedpoint``). Times are
``ts_event`` (the exchange's event time, Binance ``E``) and ``ts_recv`` (local receive time), both
in milliseconds since the Unix epoch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Anchored with \Z, not $: $ also matches before a final "\n", which would let "BTCUSDT\n" into
# keys, topics and log lines. msgspec (shared.fastcodec) searches with this same pattern.
SYMBOL_PATTERN = re.compile(r"^[A-Z0-9]{2,20}\Z")

# (price, quantity), both scaled ints.
Level = tuple[int, int]


def validate_symbol(symbol: str) -> str:
    """Return the upper-cased symbol, or raise ValueError if it is not a Binance-style symbol."""
    if not isinstance(symbol, str):
        raise ValueError(f"symbol must be a string, got {type(symbol).__name__}")
    upper = symbol.strip().upper()
    if not SYMBOL_PATTERN.match(upper):
        raise ValueError(
            f"invalid symbol {symbol!r}: expected 2-20 letters or digits, e.g. BTCUSDT"
        )
    return upper


@dataclass(frozen=True, slots=True)
class Trade:
    """One aggregate trade (Binance ``@aggTrade``)."""

    agg_id: int  # Binance "a"
    price: int  # "p", scaled
    qty: int  # "q", scaled
    ts_trade: int  # "T", ms
    buyer_maker: bool  # "m": True means the buyer was the maker, so the taker sold

    @property
    def taker_side(self) -> str:
        return "sell" if self.buyer_maker else "buy"


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """The book of one symbol as it stood at the end of one wall-clock second.

    Published once a second on ``snap.<SYMBOL>`` and stored by the writer.
    """

    symbol: str
    second: int  # unix seconds this record stands for
    session: int  # identifies one collector process run (its start time in ns)
    seq: int  # per-session sequence number, 1, 2, 3, ... one per record
    update_id: int  # the book's last applied update id (Binance "u")
    ts_event: int  # ms, "E" of the last applied depth event
    ts_recv: int  # ms, local receive time of that event
    bids: tuple[Level, ...]  # best (highest) first
    asks: tuple[Level, ...]  # best (lowest) first
    trades: tuple[Trade, ...] = field(default=())  # the aggregate trades of this second


@dataclass(frozen=True, slots=True)
class LiveBook:
    """The current book of one symbol, published up to ~10 times a second on ``book.<SYMBOL>``."""

    symbol: str
    session: int
    seq: int  # its own sequence, independent of BookSnapshot.seq
    update_id: int
    ts_event: int  # ms
    ts_recv: int  # ms
    bids: tuple[Level, ...]  # best first, up to 100 levels
    asks: tuple[Level, ...]
