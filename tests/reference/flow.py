"""get_order_flow as docs/analytics.md defines it."""

from __future__ import annotations

from decimal import Decimal

from shared.model import BookSnapshot, Trade
from tests.reference.common import (
    RefInsufficient,
    between,
    books_in,
    cks_event,
    consecutive,
    d,
    fixed,
    of_seconds,
)


def stored_depth(snap: BookSnapshot) -> int:
    return max(len(snap.bids), len(snap.asks))


def side_flow(
    before: BookSnapshot, after: BookSnapshot, trades: list[Trade], bids: bool
) -> tuple[Decimal, Decimal]:
    """(added, removed) on one side between two consecutive books."""
    old_levels = before.bids if bids else before.asks
    new_levels = after.bids if bids else after.asks
    if not old_levels or not new_levels:
        return Decimal(0), Decimal(0)
    worst = []
    if len(old_levels) >= stored_depth(before):
        worst.append(old_levels[-1][0])
    if len(new_levels) >= stored_depth(after):
        worst.append(new_levels[-1][0])

    def in_range(p: int) -> bool:
        if not worst:
            return True
        return p >= max(worst) if bids else p <= min(worst)

    old = {p: d(q) for p, q in old_levels}
    new = {p: d(q) for p, q in new_levels}
    # Taker sells (buyer_maker) hit bids; taker buys lift asks.
    traded: dict[int, Decimal] = {}
    for t in trades:
        if t.buyer_maker == bids:
            traded[t.price] = traded.get(t.price, Decimal(0)) + d(t.qty)
    prices = {p for p in (*old, *new, *traded) if in_range(p)}
    added = removed = Decimal(0)
    for p in prices:
        delta = new.get(p, Decimal(0)) - old.get(p, Decimal(0)) + traded.get(p, Decimal(0))
        if delta > 0:
            added += delta
        else:
            removed += -delta
    return added, removed


def direction(bid: Decimal, ask: Decimal) -> tuple[str, Decimal | None]:
    if ask == 0:
        return ("STRONG_BUY" if bid > 0 else "NEUTRAL"), None
    ratio = bid / ask
    if ratio > 2:
        return "STRONG_BUY", ratio
    if ratio >= Decimal("1.2"):
        return "MODERATE_BUY", ratio
    if ratio >= Decimal("0.8"):
        return "NEUTRAL", ratio
    if ratio >= Decimal("0.5"):
        return "MODERATE_SELL", ratio
    return "STRONG_SELL", ratio


def order_flow(
    snapshots: list[BookSnapshot], trades: list[Trade], start: int, end: int
) -> dict[str, object]:
    books = books_in(snapshots, start - 1, end)
    if len(books) < 2:
        raise RefInsufficient("snapshots")
    pairs = consecutive(books)
    if not pairs:
        raise RefInsufficient("pairs")
    in_window = sum(1 for b in books if b.second >= start)
    totals = {"bid_added": Decimal(0), "bid_removed": Decimal(0)}
    totals.update(ask_added=Decimal(0), ask_removed=Decimal(0))
    for a, b in pairs:
        moved = between(trades, a, b)
        for side, bids in (("bid", True), ("ask", False)):
            added, removed = side_flow(a, b, moved, bids)
            totals[f"{side}_added"] += added
            totals[f"{side}_removed"] += removed
    n = len(pairs)
    bid_rate, ask_rate = totals["bid_added"] / n, totals["ask_added"] / n
    label, ratio = direction(bid_rate, ask_rate)
    window_trades = of_seconds(trades, start, end)
    buys = [t for t in window_trades if not t.buyer_maker]
    sells = [t for t in window_trades if t.buyer_maker]
    buy_qty = sum((d(t.qty) for t in buys), Decimal(0))
    sell_qty = sum((d(t.qty) for t in sells), Decimal(0))
    events = [e for a, b in pairs if (e := cks_event(a, b)) is not None]
    ofi = sum(events, Decimal(0))
    abs_sum = sum((abs(e) for e in events), Decimal(0))
    touch = [
        (d(b.bids[0][1]) + d(b.asks[0][1])) / 2 for a, b in pairs if cks_event(a, b) is not None
    ]
    mean_touch = sum(touch, Decimal(0)) / len(touch) if touch else None
    return {
        "symbol": books[0].symbol,
        "window_start": start,
        "window_end": end,
        "window_seconds": end - start,
        "snapshots_used": in_window,
        "trades_used": len(window_trades),
        "seconds_with_snapshots": in_window,
        "seconds_missing": end - start - in_window,
        "flow_seconds": n,
        "levels_compared": max(stored_depth(b) for b in books),
        "bid_flow_rate": bid_rate,
        "ask_flow_rate": ask_rate,
        "bid_cancel_rate": totals["bid_removed"] / n,
        "ask_cancel_rate": totals["ask_removed"] / n,
        "net_flow": bid_rate - ask_rate,
        "flow_ratio": ratio,
        "flow_direction": label,
        "cumulative_delta": buy_qty - sell_qty,
        "cumulative_delta_qty": fixed(buy_qty - sell_qty),
        "taker_buy_volume": fixed(buy_qty),
        "taker_sell_volume": fixed(sell_qty),
        "taker_buy_trades": len(buys),
        "taker_sell_trades": len(sells),
        "ofi": ofi if events else None,
        "ofi_events": len(events),
        "ofi_normalized": ofi / mean_touch if events and mean_touch else None,
        "ofi_ratio": ofi / abs_sum if abs_sum else None,
    }
