"""The JSON form of a stored snapshot: exact 8-decimal strings, as Binance writes them."""

from __future__ import annotations

from typing import Any

from shared.fixedpoint import format_fixed
from shared.model import BookSnapshot, Level, Trade
from shared.times import format_time


def snapshot_json(
    snap: BookSnapshot, levels: int, trades: tuple[Trade, ...] | None = None
) -> dict[str, Any]:
    """``{"symbol", "second", "time", "update_id", ..., "bids": [["61837.63000000", "0.5"]...]}``.

    ``trades`` is included only when given (None leaves the key out; an empty tuple means the
    second was recorded with no trades).
    """
    record: dict[str, Any] = {
        "symbol": snap.symbol,
        "second": snap.second,
        "time": format_time(snap.second),
        "update_id": snap.update_id,
        "ts_event": snap.ts_event,  # ms, Binance "E" of the last applied depth event
        "ts_recv": snap.ts_recv,  # ms, when the collector received it
        "session": snap.session,
        "seq": snap.seq,
        "bids": _levels(snap.bids[:levels]),
        "asks": _levels(snap.asks[:levels]),
    }
    if trades is not None:
        record["trades"] = [
            {
                "agg_id": t.agg_id,
                "price": format_fixed(t.price),
                "qty": format_fixed(t.qty),
                "ts_trade": t.ts_trade,
                "taker_side": t.taker_side,
            }
            for t in trades
        ]
    return record


def _levels(levels: tuple[Level, ...]) -> list[list[str]]:
    return [[format_fixed(price), format_fixed(qty)] for price, qty in levels]
