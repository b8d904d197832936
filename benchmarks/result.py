"""The shape every benchmark section returns: rows of figures beside their references."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Row:
    """One measured figure, the reference measured in the same run, and the goal it is held to."""

    figure: str
    value: str
    reference: str = ""
    ratio: str = ""
    goal: str = ""
    verdict: str = ""  # "met", "NOT met" or "" when the figure has no goal


@dataclass
class Section:
    """One section of the report; ``error`` is set when the section could not run to its end."""

    key: str
    title: str
    command: str
    rows: list[Row] = field(default_factory=list)
    reading: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None
    ran_at: str = ""  # UTC time the section started, e.g. "2026-11-24 10:00 UTC"
    commit: str = ""  # the git commit measured (``machine.source_commit``); "" if unknown

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Section:
        """The inverse of ``dataclasses.asdict`` (the report keeps each section as JSON)."""
        rows = [Row(**row) for row in data.get("rows", [])]
        return cls(**{**data, "rows": rows})


@dataclass(frozen=True)
class Budget:
    """Sizes and durations of one run: the full benchmark or the seconds-long smoke version."""

    smoke: bool
    scale_seconds: float
    scale_symbols: tuple[int, ...]
    memory_seconds: float
    memory_symbols: int


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    if q <= 0:
        return min(values)
    if q >= 100:
        return max(values)
    return cuts[int(q) - 1]


def rate(value: float) -> str:
    """A rate with thousands separators, e.g. ``123,456/s``."""
    return f"{value:,.0f}/s"


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.2f} ms" if value < 10 else f"{value:,.0f} ms"
