"""The writer's ``Stored snapshot for {symbol} at {timestamp}`` lines, read back from its log."""

from __future__ import annotations

import re
from collections.abc import Iterable

# The storage contract's INFO line, one per stored snapshot (README, docs/storage.md).
STORED = re.compile(r"Stored snapshot for (\w+) at (\d+)")


def stored_seconds(log: str, symbol: str) -> list[int]:
    """The seconds ``symbol`` was logged as stored in ``log``, in log order, repeats included."""
    return [int(second) for name, second in STORED.findall(log) if name == symbol]


def stored_in(log: str) -> dict[str, set[int]]:
    """Every second each symbol was logged as stored in ``log``."""
    found: dict[str, set[int]] = {}
    for symbol, second in STORED.findall(log):
        found.setdefault(symbol, set()).add(int(second))
    return found


def ranges(seconds: Iterable[int]) -> list[tuple[int, int]]:
    """``{1, 2, 3, 7}`` → ``[(1, 3), (7, 7)]``, for readable failure messages."""
    out: list[tuple[int, int]] = []
    for second in sorted(seconds):
        if out and second == out[-1][1] + 1:
            out[-1] = (out[-1][0], second)
        else:
            out.append((second, second))
    return out
