"""Small constructors for hand-computed fixtures (prices and quantities as decimal strings)."""

from __future__ import annotations

from collections.abc import Sequence

from shared.fixedpoint import parse_fixed
from shared.model import BookSnapshot, LiveBook, Trade


def fx(text: str | float | int) -> int:
    """Scaled int from a decimal string (or a number written exactly)."""
    return parse_fixed(text if isinstance(text, str) else f"{text:.8f}")


def levels(pairs: Sequence[tuple[str, str]]) -> tuple[tuple[int, int], ...]:
    return tuple((fx(p), fx(q)) for p, q in pairs)


def snap(
    second: int,
    bids: Sequence[tuple[str, str]],
    asks: Sequence[tuple[str, str]],
    update_id: int | None = None,
    symbol: str = "TESTUSDT",
) -> BookSnapshot:
    return BookSnapshot(
        symbol=symbol,
        second=second,
        session=1,
        seq=second,
        update_id=second * 100 if update_id is None else update_id,
        ts_event=second * 1000 + 900,
        ts_recv=second * 1000 + 950,
        bids=levels(bids),
        asks=levels(asks),
    )


def raw_snap(
    second: int, bids: Sequence[tuple[int, int]], asks: Sequence[tuple[int, int]], update_id: int
) -> BookSnapshot:
    return BookSnapshot(
        symbol="TESTUSDT",
        second=second,
        session=1,
        seq=second,
        update_id=update_id,
        ts_event=second * 1000 + 900,
        ts_recv=second * 1000 + 950,
        bids=tuple(bids),
        asks=tuple(asks),
    )


_ids = iter(range(1, 10**9))


def trade(second: int, price: str, qty: str, *, taker: str, ms: int = 500) -> Trade:
    """A trade in ``second``; taker 'buy' lifts the ask, 'sell' hits the bid."""
    assert taker in ("buy", "sell")
    return Trade(
        agg_id=next(_ids),
        price=fx(price),
        qty=fx(qty),
        ts_trade=second * 1000 + ms,
        buyer_maker=taker == "sell",
    )


def live(bids: Sequence[tuple[str, str]], asks: Sequence[tuple[str, str]]) -> LiveBook:
    return LiveBook(
        symbol="TESTUSDT",
        session=1,
        seq=1,
        update_id=42,
        ts_event=1_000_000,
        ts_recv=1_000_100,
        bids=levels(bids),
        asks=levels(asks),
    )


def mirror_snap(s: BookSnapshot, k: int) -> BookSnapshot:
    """Swap sides around the fixed price k/2: price p becomes k - p."""
    return BookSnapshot(
        symbol=s.symbol,
        second=s.second,
        session=s.session,
        seq=s.seq,
        update_id=s.update_id,
        ts_event=s.ts_event,
        ts_recv=s.ts_recv,
        bids=tuple((k - p, q) for p, q in s.asks),
        asks=tuple((k - p, q) for p, q in s.bids),
    )


def mirror_trade(t: Trade, k: int) -> Trade:
    return Trade(t.agg_id, k - t.price, t.qty, t.ts_trade, not t.buyer_maker)
