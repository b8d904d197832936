"""The records that travel between booksnap's processes: one typed schema each (msgspec).

Each record is declared once, here, as a msgspec ``Struct`` whose field names are Python names
and whose wire names (``name=``) are the MessagePack map keys documented in ``docs/storage.md``.
Decoding with ``shared.codec`` *is* the validation of types, ranges and sizes; ``shared.codec``
adds the few checks a type cannot express (book order, crossing, record agreement).

Prices and quantities are exact ints scaled by 10**8 (see ``shared.fixedpoint``). Times are
``ts_event`` (the exchange's event time, Binance ``E``) and ``ts_recv`` (local receive time), both
in milliseconds since the Unix epoch.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from msgspec import Meta, Struct, field

from shared.fixedpoint import MAX_INT64

SCHEMA_VERSION: Literal[1] = 1  # of every record below; a decoder refuses any other
MAX_LEVELS = 5000  # per side; Binance's REST snapshot never has more
MAX_TRADES = 25_000  # per second: ~1 MB of trades; far above Binance's busiest seconds

# ``\Z``, not ``$``: ``$`` also matches before a trailing newline. msgspec searches the pattern,
# so it must be anchored at both ends.
SYMBOL_PATTERN = re.compile(r"^[A-Z0-9]{2,20}\Z")

Symbol = Annotated[str, Meta(pattern=SYMBOL_PATTERN.pattern)]
UInt64 = Annotated[int, Meta(ge=0, le=MAX_INT64)]  # msgspec's int never takes a bool or a float
Amount = Annotated[int, Meta(gt=0, le=MAX_INT64)]  # a scaled price or quantity
Level = tuple[int, int]  # (price, quantity), both scaled
Levels = Annotated[tuple[tuple[Amount, Amount], ...], Meta(max_length=MAX_LEVELS)]
Version = Literal[1]


def validate_symbol(symbol: str) -> str:
    """Return the upper-cased symbol, or raise ValueError if it is not a Binance-style symbol."""
    if not isinstance(symbol, str):
        raise ValueError(f"symbol must be a string, got {type(symbol).__name__}")
    upper = symbol.strip().upper()
    if not SYMBOL_PATTERN.match(upper):
        raise ValueError(
            f"invalid symbol {symbol[:40]!r}: expected 2-20 letters or digits, e.g. BTCUSDT"
        )
    return upper


class Trade(Struct, array_like=True, frozen=True, gc=False):
    """One aggregate trade (Binance ``@aggTrade``); on the wire ``[a, p, q, T, m]``."""

    agg_id: UInt64  # Binance "a"
    price: Amount  # "p", scaled
    qty: Amount  # "q", scaled
    ts_trade: UInt64  # "T", ms
    buyer_maker: bool  # "m": True means the buyer was the maker, so the taker sold

    @property
    def taker_side(self) -> str:
        return "sell" if self.buyer_maker else "buy"


Trades = Annotated[tuple[Trade, ...], Meta(max_length=MAX_TRADES)]


class BookSnapshot(Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """The book of one symbol as it stood at the end of one wall-clock second.

    The second frame of a ``snap.<SYMBOL>`` message and the ``snapshots`` value, byte for byte.
    """

    symbol: Symbol = field(name="sym")
    second: UInt64 = field(name="sec")  # unix seconds this record stands for
    session: UInt64 = field(name="ses")  # one collector process run (its start time in ns)
    seq: UInt64 = field(name="seq")  # per-session sequence number, 1, 2, 3, ... one per record
    update_id: UInt64 = field(name="uid")  # the book's last applied update id (Binance "u")
    ts_event: UInt64 = field(name="E")  # ms, "E" of the last applied depth event
    ts_recv: UInt64 = field(name="recv")  # ms, local receive time of that event
    bids: Levels = field(name="b")  # best (highest) first
    asks: Levels = field(name="a")  # best (lowest) first
    version: Version = field(default=SCHEMA_VERSION, name="v")


class SecondTrades(Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """The aggregate trades of one symbol-second, by their trade time ``T``.

    The third frame of a ``snap.<SYMBOL>`` message and the ``trades`` value, byte for byte.
    """

    symbol: Symbol = field(name="sym")
    second: UInt64 = field(name="sec")
    trades: Trades = field(name="tr")  # in the order the exchange sent them
    version: Version = field(default=SCHEMA_VERSION, name="v")


class LiveBook(Struct, frozen=True, forbid_unknown_fields=True, gc=False):
    """The current book of one symbol, published up to ~10 times a second on ``book.<SYMBOL>``."""

    symbol: Symbol = field(name="sym")
    session: UInt64 = field(name="ses")
    seq: UInt64 = field(name="seq")  # its own sequence, independent of BookSnapshot.seq
    update_id: UInt64 = field(name="uid")
    ts_event: UInt64 = field(name="E")  # ms
    ts_recv: UInt64 = field(name="recv")  # ms
    bids: Levels = field(name="b")  # best first, up to 100 levels
    asks: Levels = field(name="a")
    version: Version = field(default=SCHEMA_VERSION, name="v")
