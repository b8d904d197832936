"""Which collector session speaks for a symbol (pure; the clock is passed in).

One collector process run is one session (its start time in ns). For each symbol the writer, and
the query process for live books, accept one session at a time: the first they see, then a new
one only once the accepted session has gone silent (``silence`` seconds without a record) or when
the new one starts after the accepted one's newest second (a collector restart: its first second
is later). Anything else (a second copy of a symbol's collector, a forged or replayed stream) is
refused; the writer also never replaces a stored second with another session's copy
(``SnapshotStore.stored_session``). Without CURVE keys a local process can still pose as a
restarted collector; with them it cannot connect at all (docs/reliability.md, "Security").
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

SILENCE = 10.0  # seconds without a record after which another session may take a symbol over
MAX_REFUSED = 32  # sessions remembered as refused, per symbol (bounded: sessions come from outside)


@dataclass(slots=True)
class _Symbol:
    session: int  # the accepted session
    last_second: int  # newest second accepted from it
    last_seen: float  # monotonic time of its newest record
    refused: OrderedDict[int, None] = field(default_factory=OrderedDict)


class SessionGate:
    """Per symbol, the session whose records are stored."""

    def __init__(self, silence: float = SILENCE) -> None:
        self.silence = silence
        self._symbols: dict[str, _Symbol] = {}

    def admit(self, symbol: str, session: int, second: int, monotonic: float) -> bool:
        """Whether a record of ``session`` may be stored; accepting a new session switches."""
        state = self._symbols.get(symbol)
        if state is None:
            self._symbols[symbol] = _Symbol(session, second, monotonic)
            return True
        if state.session == session:
            state.last_second = max(state.last_second, second)
            state.last_seen = monotonic
            return True
        silent = monotonic - state.last_seen > self.silence
        # A session seen for the first time whose first second is after everything accepted is
        # a restarted collector; one already refused cannot qualify later by a later second.
        restarted = session not in state.refused and second > state.last_second
        if silent or restarted:
            _remember(state.refused, state.session)
            state.refused.pop(session, None)
            state.session, state.last_second, state.last_seen = session, second, monotonic
            return True
        _remember(state.refused, session)
        return False

    def session(self, symbol: str) -> int | None:
        state = self._symbols.get(symbol)
        return None if state is None else state.session


def _remember(refused: OrderedDict[int, None], session: int) -> None:
    refused[session] = None
    refused.move_to_end(session)
    while len(refused) > MAX_REFUSED:
        refused.popitem(last=False)
