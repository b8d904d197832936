"""Coverage of a long range, asked one day at a time so the CLI can show progress (pure merge).

The query process answers ``coverage`` for up to eight days in one request; for a person at a
terminal a week is a second or more of silence. ``booksnap coverage`` therefore asks day by day
(``QueryClient.iter_coverage``) and merges the replies here into the reply one request would
have given: the same fields, counts summed, and a missing range that crosses midnight is one
range, not two.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.times import format_time

DAY = 86_400
MAX_LISTED = 1000  # missing ranges listed, as the query process lists


def day_chunks(start: int, end: int, size: int = DAY) -> list[tuple[int, int]]:
    """``start..end`` (inclusive) cut into consecutive inclusive pieces of at most ``size``."""
    return [(first, min(first + size - 1, end)) for first in range(start, end + 1, size)]


def merge(parts: Sequence[dict[str, Any]], last_missing: Sequence[bool]) -> dict[str, Any]:
    """One ``coverage`` reply from the replies of consecutive pieces of a range.

    ``last_missing[i]`` says whether the last second of piece ``i`` is missing (known from its
    listed ranges unless the list was truncated; the caller asks then).
    """
    first, last = parts[0], parts[-1]
    expected = sum(part["expected_seconds"] for part in parts)
    stored = sum(part["stored_seconds"] for part in parts)
    count = sum(part["missing_range_count"] for part in parts)
    listed: list[dict[str, Any]] = []
    complete = True  # every range so far is in ``listed``
    for i, part in enumerate(parts):
        ranges = list(part["missing"])
        joins = (
            i > 0 and last_missing[i - 1] and bool(ranges) and ranges[0]["start"] == part["start"]
        )
        if joins:
            count -= 1  # one range across the boundary, counted once in each piece
            if complete and listed:
                head = ranges.pop(0)
                listed[-1] = _range(listed[-1]["start"], head["end"])
        if complete:
            listed.extend(_range(r["start"], r["end"]) for r in ranges)
            complete = not part["missing_truncated"]
    listed = listed[:MAX_LISTED]
    return {
        "symbol": first["symbol"],
        "start": first["start"],
        "end": last["end"],
        "expected_seconds": expected,
        "stored_seconds": stored,
        "fraction": round(stored / expected, 6) if expected else 0.0,
        "missing_seconds": expected - stored,
        "missing_range_count": count,
        "missing": listed,
        "missing_truncated": count > len(listed),
    }


def ends_missing(part: dict[str, Any]) -> bool | None:
    """Whether the last second of a piece is missing; None when its list was cut short."""
    if part["missing_truncated"]:
        return None
    ranges = part["missing"]
    return bool(ranges) and ranges[-1]["end"] == part["end"]


def _range(start: int, end: int) -> dict[str, Any]:
    return {"start": start, "end": end, "seconds": end - start + 1, "from": format_time(start)}
