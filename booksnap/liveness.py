"""``booksnap status --check``: is every configured symbol still being stored? (pure)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.times import format_time

DEFAULT_MAX_AGE = 10  # seconds without a stored second before a symbol counts as stale
MAX_MAX_AGE = 7 * 86_400


@dataclass(frozen=True)
class SymbolCheck:
    """One configured symbol's verdict: its newest stored second and how old that is."""

    symbol: str
    last: int | None
    age: int | None  # seconds from ``last`` to the status reply's ``now``
    ok: bool

    def line(self, max_age: int) -> str:
        if self.last is None or self.age is None:
            return f"{self.symbol} STALE: nothing stored"
        verdict = "ok" if self.ok else "STALE"
        return (
            f"{self.symbol} {verdict}: last stored second {format_time(self.last)}, "
            f"{self.age} s ago (limit {max_age} s)"
        )


def check_symbols(
    status: dict[str, Any], symbols: tuple[str, ...], max_age: int
) -> list[SymbolCheck]:
    """Judge each of ``symbols`` from a ``status`` reply: stale when its newest stored second is
    more than ``max_age`` seconds before the reply's ``now`` (or when nothing is stored)."""
    now = status.get("now")
    entries = status.get("symbols")
    entries = entries if isinstance(entries, dict) else {}
    checks = []
    for symbol in symbols:
        entry = entries.get(symbol)
        last = entry.get("last_stored_second") if isinstance(entry, dict) else None
        if not isinstance(last, int) or isinstance(last, bool) or not isinstance(now, int):
            checks.append(SymbolCheck(symbol, None, None, ok=False))
            continue
        age = now - last
        checks.append(SymbolCheck(symbol, last, age, ok=age <= max_age))
    return checks
