"""A test's unit of data: one symbol-second as a book with its trades, and its wire forms."""

from __future__ import annotations

import dataclasses

from shared.codec import encode, encode_second
from shared.model import BookSnapshot, Level, SecondTrades, Trade
from writer.pending import Record
from writer.validate import Limits, validate_record


@dataclasses.dataclass(frozen=True)
class Second:
    """The fields of a ``BookSnapshot`` plus the second's trades (``dataclasses.replace`` works)."""

    symbol: str
    second: int
    session: int
    seq: int
    update_id: int
    ts_event: int
    ts_recv: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    trades: tuple[Trade, ...] = ()

    @property
    def book(self) -> BookSnapshot:
        return BookSnapshot(
            self.symbol,
            self.second,
            self.session,
            self.seq,
            self.update_id,
            self.ts_event,
            self.ts_recv,
            tuple(self.bids),
            tuple(self.asks),
        )

    @property
    def trade_record(self) -> SecondTrades:
        return SecondTrades(self.symbol, self.second, tuple(self.trades))

    def frames(self) -> list[bytes]:
        """The ``[topic, book, trades]`` message a collector publishes."""
        return encode_second(self.book, self.trade_record)

    def values(self) -> tuple[bytes, bytes]:
        """The two stored values (``snapshots``, ``trades``)."""
        return encode(self.book), encode(self.trade_record)

    def record(self, received: float = 0.0, *, backfilled: bool = False) -> Record:
        """The writer's Record of this second, through the writer's own validation."""
        book, trades = self.values()
        return validate_record(book, trades, self.second, Limits(), received, backfilled=backfilled)


def second_of(book: BookSnapshot, trades: SecondTrades | None = None) -> Second:
    """A ``Second`` from decoded records."""
    return Second(
        book.symbol,
        book.second,
        book.session,
        book.seq,
        book.update_id,
        book.ts_event,
        book.ts_recv,
        tuple(book.bids),
        tuple(book.asks),
        trades.trades if trades is not None else (),
    )
