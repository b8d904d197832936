"""Window selection shared by the tools: which snapshots/trades count, consecutive pairs, header.

Conventions (docs/analytics.md): a window is the half-open range of unix seconds
``[window_start, window_end)``. ``BookSnapshot.second == s`` is the book at the END of second s,
and the trades of second s have ``s*1000 <= ts_trade < (s+1)*1000``. The change during second s
is the difference between snapshots s-1 and s together with the trades between the two books'
last depth events (``trades_by_pair``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import NamedTuple

from query.analytics.errors import ParameterError
from query.analytics.params import check_symbol
from shared.model import BookSnapshot, Level, Trade

# Health and anomalies compare the window with the ten minutes before it.
BASELINE_SECONDS = 600
Pair = tuple[BookSnapshot, BookSnapshot]  # two books one second apart


class History(NamedTuple):
    """Seconds BEFORE window_start the caller must also load for one tool.

    Each windowed tool's module defines its ``HISTORY``. Trades are loaded over the smaller span
    ``trades`` (decoding fewer trades saves time); ``snapshots`` is always a safe superset.
    """

    snapshots: int
    trades: int


def check_span(symbol: str, start: int, end: int) -> str:
    """Validated symbol; ParameterError unless start < end (unix seconds)."""
    if (
        isinstance(start, bool)
        or isinstance(end, bool)
        or not (isinstance(start, int) and isinstance(end, int))
    ):
        raise ParameterError(
            "window", f"start and end must be unix seconds, got {start!r}, {end!r}"
        )
    if start >= end:
        raise ParameterError("window", f"start {start} must be before end {end}")
    return check_symbol(symbol)


def crossed(bids: Sequence[Level], asks: Sequence[Level]) -> bool:
    """True when both sides are shown and the best bid is at or above the best ask."""
    return bool(bids) and bool(asks) and bids[0][0] >= asks[0][0]


def by_second(snapshots: Iterable[BookSnapshot], start: int, end: int) -> list[BookSnapshot]:
    """Snapshots with start <= second < end, sorted, one per second (the latest seq wins).

    A crossed snapshot is not a book (its spread is negative): it is dropped like a missing
    second, so no tool measures it and no pair differences it.
    """
    chosen: dict[int, BookSnapshot] = {}
    for snap in snapshots:
        if start <= snap.second < end and not crossed(snap.bids, snap.asks):
            # Two records for one second only happen across a collector restart; the later
            # session's record is the one the writer keeps, so prefer it here too.
            old = chosen.get(snap.second)
            if old is None or (snap.session, snap.seq) > (old.session, old.seq):
                chosen[snap.second] = snap
    return [chosen[s] for s in sorted(chosen)]


def consecutive_pairs(
    snaps: Sequence[BookSnapshot],
) -> list[Pair]:
    """Pairs (s-1, s) one second apart; a missing second breaks the chain (no fake jump)."""
    return [(a, b) for a, b in pairwise(snaps) if b.second == a.second + 1]


def trades_between(trades: Iterable[Trade], start: int, end: int) -> list[Trade]:
    """Trades of the seconds [start, end), in input order (every use sums exact ints)."""
    low, high = start * 1000, end * 1000
    return [t for t in trades if low <= t.ts_trade < high]


def trades_by_pair(pairs: Sequence[Pair], trades: Iterable[Trade]) -> dict[int, list[Trade]]:
    """The trades that happened between the two books of each pair, keyed by the later second.

    A snapshot is the book after its last depth event, whose exchange time is ``ts_event``; a
    trade is part of the change from book a to book b when ``a.ts_event < ts_trade <=
    b.ts_event`` (the exchange's clock on both sides). Cutting trades at the local second
    instead would add back, in one second, a trade the book only shows in the next.
    """
    ordered = sorted(trades, key=lambda t: t.ts_trade)
    times = [t.ts_trade for t in ordered]
    grouped: dict[int, list[Trade]] = {}
    for before, after in pairs:
        low = bisect_right(times, before.ts_event)
        high = bisect_right(times, after.ts_event)
        if high > low:
            grouped[after.second] = ordered[low:high]
    return grouped


def two_sided(snap: BookSnapshot) -> bool:
    """True when the snapshot has at least one bid and one ask (a mid exists)."""
    return bool(snap.bids) and bool(snap.asks)


def header(
    symbol: str, start: int, end: int, *, snapshots: int, trades: int, extra: dict[str, object]
) -> dict[str, object]:
    """The fields every windowed result starts with."""
    result: dict[str, object] = {
        "symbol": symbol,
        "window_start": start,
        "window_end": end,
        "window_seconds": end - start,
        "snapshots_used": snapshots,
        "trades_used": trades,
    }
    result.update(extra)
    return result
