"""Window rules of docs/analytics.md ("Conventions"), written out plainly in Decimal."""

from __future__ import annotations

from decimal import Decimal, getcontext

from shared.model import BookSnapshot, Trade

getcontext().prec = 60
UNIT = Decimal(100_000_000)
BPS = Decimal(10_000)


class RefInsufficient(Exception):
    """The reference's "not enough data" (production: InsufficientData)."""


def d(scaled: int) -> Decimal:
    """A scaled int (1e8) as an exact Decimal of units."""
    return Decimal(scaled) / UNIT


def fixed(value: Decimal) -> str:
    """The 8-decimal string of an exact value (docs: exact values are 8-decimal strings)."""
    return f"{value.quantize(Decimal('0.00000001')):f}"


def is_crossed(snap: BookSnapshot) -> bool:
    return bool(snap.bids) and bool(snap.asks) and snap.bids[0][0] >= snap.asks[0][0]


def books_in(snapshots: list[BookSnapshot], low: int, high: int) -> list[BookSnapshot]:
    """One snapshot per second in [low, high): the latest (session, seq); crossed ones dropped."""
    best: dict[int, BookSnapshot] = {}
    for snap in snapshots:
        if not low <= snap.second < high or is_crossed(snap):
            continue
        if snap.second not in best or (snap.session, snap.seq) > (
            best[snap.second].session,
            best[snap.second].seq,
        ):
            best[snap.second] = snap
    return [best[s] for s in sorted(best)]


def consecutive(books: list[BookSnapshot]) -> list[tuple[BookSnapshot, BookSnapshot]]:
    """Pairs of books exactly one second apart."""
    return [
        (books[i - 1], books[i])
        for i in range(1, len(books))
        if books[i].second == books[i - 1].second + 1
    ]


def between(trades: list[Trade], before: BookSnapshot, after: BookSnapshot) -> list[Trade]:
    """Trades with before.ts_event < T <= after.ts_event (the exchange clock)."""
    return [t for t in trades if before.ts_event < t.ts_trade <= after.ts_event]


def of_seconds(trades: list[Trade], low: int, high: int) -> list[Trade]:
    """Trades whose time lies in the seconds [low, high)."""
    return [t for t in trades if low * 1000 <= t.ts_trade < high * 1000]


def two_sided(snap: BookSnapshot) -> bool:
    return bool(snap.bids) and bool(snap.asks)


def median(values: list[Decimal]) -> Decimal:
    ordered = sorted(values)
    n = len(ordered)
    if n % 2:
        return ordered[n // 2]
    return (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def percentile(values: list[Decimal], fraction: Decimal) -> Decimal:
    """Linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)  # position >= 0
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def clamp(x: Decimal, low: Decimal = Decimal(0), high: Decimal = Decimal(1)) -> Decimal:
    return max(low, min(high, x))


def cks_event(before: BookSnapshot, after: BookSnapshot, level: int = 1) -> Decimal | None:
    """Cont-Kukanov-Stoikov e_n on the level-th best level of each side (docs formula)."""
    i = level - 1
    if min(len(before.bids), len(before.asks), len(after.bids), len(after.asks)) <= i:
        return None
    pb0, qb0 = (d(x) for x in before.bids[i])
    pa0, qa0 = (d(x) for x in before.asks[i])
    pb1, qb1 = (d(x) for x in after.bids[i])
    pa1, qa1 = (d(x) for x in after.asks[i])
    e = Decimal(0)
    e += qb1 if pb1 >= pb0 else 0
    e -= qb0 if pb1 <= pb0 else 0
    e -= qa1 if pa1 <= pa0 else 0
    e += qa0 if pa1 >= pa0 else 0
    return e
