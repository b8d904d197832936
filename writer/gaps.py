"""Pure detection of lost records: sequence gaps per collector session, missing seconds per symbol.

A collector numbers its records 1, 2, 3, ... per session (one process run), one per second. The
writer remembers, per symbol, the newest second it accepted (seeded from the database at start,
so a writer restart is covered too) and the last (session, seq); anything skipped becomes a
``Gap`` whose seconds the service fetches back from the collector's buffer.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from shared.backfill import MAX_FETCH_SECONDS


@dataclass(frozen=True, slots=True)
class Gap:
    """Seconds ``first``..``last`` (inclusive) of ``symbol`` that never arrived."""

    symbol: str
    first: int
    last: int
    lost_seq: int = 0  # records the sequence numbers say were lost (0 when unknown)

    @property
    def seconds(self) -> int:
        return self.last - self.first + 1


@dataclass(slots=True)
class _SymbolState:
    last_second: int | None = None
    session: int | None = None
    seq: int | None = None


class GapDetector:
    """Remembers, per symbol, the newest accepted second and the last (session, seq) seen."""

    def __init__(self) -> None:
        self._states: dict[str, _SymbolState] = {}

    def seed(self, symbol: str, last_second: int | None) -> None:
        """Start from the newest second already in the database (at writer start-up)."""
        state = self._state(symbol)
        if last_second is not None and (
            state.last_second is None or last_second > state.last_second
        ):
            state.last_second = last_second

    def last_second(self, symbol: str) -> int | None:
        state = self._states.get(symbol)
        return state.last_second if state else None

    def observe(self, symbol: str, second: int, session: int, seq: int) -> Gap | None:
        """Account for a live record; return the gap it reveals, if any.

        A new session (the collector restarted) resets the sequence check only: the seconds it
        missed while restarting still show up as missing seconds.
        """
        state = self._states.get(symbol)
        if state is None:
            state = self._states[symbol] = _SymbolState()
        lost_seq = 0
        if state.session == session and state.seq is not None and seq > state.seq + 1:
            lost_seq = seq - state.seq - 1
        if state.session != session or state.seq is None or seq > state.seq:
            state.session, state.seq = session, seq
        gap: Gap | None = None
        if state.last_second is not None and second > state.last_second + 1:
            gap = Gap(symbol, state.last_second + 1, second - 1, lost_seq)
        elif lost_seq:
            # Lost sequence numbers without missing seconds: the collector skipped publishing
            # seconds it later re-published or never had; report it, nothing to fetch.
            gap = Gap(symbol, second, second - 1, lost_seq)
        if state.last_second is None or second > state.last_second:
            state.last_second = second  # as ``advance``
        return gap

    def advance(self, symbol: str, second: int) -> None:
        """Account for a record that needs no check (a backfilled second)."""
        state = self._state(symbol)
        if state.last_second is None or second > state.last_second:
            state.last_second = second

    def _state(self, symbol: str) -> _SymbolState:
        # get-then-insert: ``setdefault(symbol, _SymbolState())`` built a throwaway per record.
        state = self._states.get(symbol)
        if state is None:
            state = self._states[symbol] = _SymbolState()
        return state

    def behind(self, symbol: str, newest_available: int, slack: int = 2) -> Gap | None:
        """The seconds a collector's buffer holds beyond what was accepted, if clearly behind.

        ``slack`` leaves the seconds that are probably still in flight on the live stream.
        """
        state = self._states.get(symbol)
        if state is None or state.last_second is None:
            return None
        if newest_available <= state.last_second + slack:
            return None
        return Gap(symbol, state.last_second + 1, newest_available)


def find_holes(symbol: str, seconds: list[int]) -> list[Gap]:
    """The runs of seconds missing between consecutive stored ``seconds`` (ascending)."""
    return [
        Gap(symbol, before + 1, after - 1)
        for before, after in pairwise(seconds)
        if after > before + 1
    ]


def fetch_ranges(gap: Gap, oldest_allowed: int) -> list[tuple[int, int]]:
    """Split a gap into fetchable ranges of at most MAX_FETCH_SECONDS, newest part kept.

    Seconds older than ``oldest_allowed`` would be rejected anyway, so they are not asked for.
    """
    first = max(gap.first, oldest_allowed)
    ranges: list[tuple[int, int]] = []
    start = first
    while start <= gap.last:
        end = min(gap.last, start + MAX_FETCH_SECONDS - 1)
        ranges.append((start, end))
        start = end + 1
    return ranges
