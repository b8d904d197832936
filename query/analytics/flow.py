"""get_order_flow: liquidity added per side, taker delta and Cont-Kukanov-Stoikov OFI.

Every quantity is summed as an exact scaled int and only turned into a float at the end, so
results do not depend on the order of the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from query.analytics.errors import InsufficientData
from query.analytics.window import (
    History,
    Pair,
    by_second,
    check_span,
    consecutive_pairs,
    header,
    trades_between,
    trades_by_pair,
)
from shared.fixedpoint import SCALE, format_fixed
from shared.model import BookSnapshot, Level, Trade

# The snapshot of window_start-1 is the "before" of the window's first second.
HISTORY = History(snapshots=1, trades=1)  # trades after the last event of window_start-1
FLOW_LEVELS = 20  # top N levels per side in the per-snapshot depth and imbalance measures
MIN_SNAPSHOTS = 2

# flow_direction thresholds on ratio = bid_flow_rate / ask_flow_rate (kept from the earlier API).
STRONG_BUY_ABOVE = 2.0
MODERATE_BUY_FROM = 1.2
NEUTRAL_FROM = 0.8
MODERATE_SELL_FROM = 0.5


def classify_flow(bid_rate: float, ask_rate: float) -> tuple[str, float | None]:
    """(flow_direction, ratio); ratio is None when ask_rate is 0 (it would be infinite)."""
    if ask_rate == 0.0:
        # No added ask liquidity: any bid addition is one-sided buying interest; nothing on
        # either side is no pressure at all.
        return ("STRONG_BUY" if bid_rate > 0.0 else "NEUTRAL"), None
    ratio = bid_rate / ask_rate
    if ratio > STRONG_BUY_ABOVE:
        return "STRONG_BUY", ratio
    if ratio >= MODERATE_BUY_FROM:
        return "MODERATE_BUY", ratio
    if ratio >= NEUTRAL_FROM:
        return "NEUTRAL", ratio
    if ratio >= MODERATE_SELL_FROM:
        return "MODERATE_SELL", ratio
    return "STRONG_SELL", ratio


def stored_depth(snap: BookSnapshot) -> int:
    """Levels per side the record was stored with: a side with fewer shows the whole side.

    The collector stores its best N levels of each side (``--levels``); a side holding N of them
    may have been cut at N, one holding fewer is all there was.
    """
    return max(len(snap.bids), len(snap.asks))


def side_changes(
    before: Sequence[Level],
    after: Sequence[Level],
    traded: dict[int, int],
    *,
    bids: bool,
    cut: tuple[bool, bool],
) -> tuple[int, int]:
    """(added, removed) scaled quantity on one side between two consecutive snapshots.

    Only prices that BOTH snapshots can see are compared: a side cut at its record's depth
    (``cut`` for before and after) ends at its worst level, so a level that merely scrolled
    into or out of view when the book moved is not an addition or a cancellation. Every price
    in that range counts, shown or traded: a missing price is truly empty, so new levels count
    as added and vanished ones as removed, and quantity traded at a price between the books is
    added back (a level hit and refilled, or placed and taken within the second, received new
    orders).
    """
    if not before or not after:
        return 0, 0
    # Worst price both snapshots observe; a side that was not cut shows the whole book.
    edges = [levels[-1][0] for levels, was_cut in zip((before, after), cut, strict=True) if was_cut]
    bound = (max(edges) if bids else min(edges)) if edges else None

    def visible(price: int) -> bool:
        return bound is None or (price >= bound if bids else price <= bound)

    old = {p: q for p, q in before if visible(p)}
    new = {p: q for p, q in after if visible(p)}
    added = removed = 0
    for price in old.keys() | new.keys() | {p for p in traded if visible(p)}:
        delta = new.get(price, 0) - old.get(price, 0) + traded.get(price, 0)
        if delta > 0:
            added += delta
        else:
            removed -= delta
    return added, removed


def ofi_event(before: BookSnapshot, after: BookSnapshot, level: int = 1) -> int | None:
    """Cont-Kukanov-Stoikov e_n between two snapshots (scaled qty), computed on the ``level``-th
    best level of each side (1 = the touch); None if a side lacks that level."""
    i = level - 1
    if min(len(before.bids), len(before.asks), len(after.bids), len(after.asks)) <= i:
        return None
    (pb0, qb0), (pa0, qa0) = before.bids[i], before.asks[i]
    (pb1, qb1), (pa1, qa1) = after.bids[i], after.asks[i]
    event = 0
    if pb1 >= pb0:
        event += qb1
    if pb1 <= pb0:
        event -= qb0
    if pa1 <= pa0:
        event -= qa1
    if pa1 >= pa0:
        event += qa0
    return event


def traded_per_side(trades: Iterable[Trade]) -> tuple[dict[int, int], dict[int, int]]:
    """Quantity per price that hit the bids (taker sold) and the asks (taker bought)."""
    hit_bids: dict[int, int] = {}
    hit_asks: dict[int, int] = {}
    for trade in trades:
        target = hit_bids if trade.buyer_maker else hit_asks
        target[trade.price] = target.get(trade.price, 0) + trade.qty
    return hit_bids, hit_asks


def taker_totals(trades: Iterable[Trade]) -> dict[str, int]:
    """Exact taker buy/sell volume and counts."""
    totals = {"buy_qty": 0, "sell_qty": 0, "buy_count": 0, "sell_count": 0}
    for trade in trades:
        side = "sell" if trade.buyer_maker else "buy"
        totals[f"{side}_qty"] += trade.qty
        totals[f"{side}_count"] += 1
    return totals


def flow_totals(pairs: Sequence[Pair], trades_of: dict[int, list[Trade]]) -> dict[str, int]:
    """Added/removed liquidity per side summed over consecutive pairs (scaled ints)."""
    totals = {"bid_added": 0, "bid_removed": 0, "ask_added": 0, "ask_removed": 0}
    for before, after in pairs:
        hit_bids, hit_asks = traded_per_side(trades_of.get(after.second, ()))
        depth_before, depth_after = stored_depth(before), stored_depth(after)
        cut = (len(before.bids) >= depth_before, len(after.bids) >= depth_after)
        added, removed = side_changes(before.bids, after.bids, hit_bids, bids=True, cut=cut)
        totals["bid_added"] += added
        totals["bid_removed"] += removed
        cut = (len(before.asks) >= depth_before, len(after.asks) >= depth_after)
        added, removed = side_changes(before.asks, after.asks, hit_asks, bids=False, cut=cut)
        totals["ask_added"] += added
        totals["ask_removed"] += removed
    return totals


def get_order_flow(
    snapshots: Iterable[BookSnapshot],
    trades: Iterable[Trade],
    *,
    symbol: str,
    window_start: int,
    window_end: int,
) -> dict[str, object]:
    """Order flow of [window_start, window_end) from 1 s snapshots and trades."""
    symbol = check_span(symbol, window_start, window_end)
    # The snapshot of window_start-1 is the "before" of the window's first second.
    snaps = by_second(snapshots, window_start - 1, window_end)
    in_window = sum(1 for s in snaps if s.second >= window_start)
    if len(snaps) < MIN_SNAPSHOTS:
        raise InsufficientData("snapshots", in_window, MIN_SNAPSHOTS)
    pairs = consecutive_pairs(snaps)
    if not pairs:
        raise InsufficientData(
            "consecutive-second snapshot pairs", 0, 1, "every second in the window has a gap"
        )
    trades = list(trades)
    window_trades = trades_between(trades, window_start, window_end)
    flow = flow_totals(pairs, trades_by_pair(pairs, trades))
    seconds = len(pairs)
    bid_rate = flow["bid_added"] / SCALE / seconds
    ask_rate = flow["ask_added"] / SCALE / seconds
    direction, ratio = classify_flow(bid_rate, ask_rate)

    # The touch depth is averaged over the same pairs as the events (docs: mean over n).
    with_events = [(e, b) for a, b in pairs if (e := ofi_event(a, b)) is not None]
    events = [e for e, _ in with_events]
    ofi = sum(events)
    abs_sum = sum(abs(e) for e in events)
    touch = sum(b.bids[0][1] + b.asks[0][1] for _, b in with_events)  # scaled, twice the mean
    mean_touch = touch / 2 / SCALE / len(with_events) if with_events else 0.0

    taker = taker_totals(window_trades)
    delta = taker["buy_qty"] - taker["sell_qty"]
    window_seconds = window_end - window_start
    return header(
        symbol,
        window_start,
        window_end,
        snapshots=in_window,
        trades=len(window_trades),
        extra={
            "seconds_with_snapshots": in_window,
            "seconds_missing": window_seconds - in_window,
            "flow_seconds": seconds,
            "levels_compared": max(stored_depth(s) for s in snaps),
            "bid_flow_rate": bid_rate,
            "ask_flow_rate": ask_rate,
            "bid_cancel_rate": flow["bid_removed"] / SCALE / seconds,
            "ask_cancel_rate": flow["ask_removed"] / SCALE / seconds,
            "net_flow": (flow["bid_added"] - flow["ask_added"]) / SCALE / seconds,
            "flow_ratio": ratio,
            "flow_direction": direction,
            "cumulative_delta": delta / SCALE,
            "cumulative_delta_qty": format_fixed(delta),
            "taker_buy_volume": format_fixed(taker["buy_qty"]),
            "taker_sell_volume": format_fixed(taker["sell_qty"]),
            "taker_buy_trades": taker["buy_count"],
            "taker_sell_trades": taker["sell_count"],
            # No OFI event (no pair with both sides shown): no OFI at all, not a balanced 0.
            "ofi": ofi / SCALE if events else None,
            "ofi_events": len(events),
            "ofi_normalized": (ofi / SCALE / mean_touch) if events and mean_touch else None,
            "ofi_ratio": (ofi / abs_sum) if abs_sum else None,
        },
    )
