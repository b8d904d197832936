"""Times as operators type them: unix seconds or ISO-8601, naive meaning UTC; durations as
``7d``, ``36h``, ``90m``, ``30s`` or plain seconds."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

MAX_SECOND = 9_999_999_999  # keys hold 10 digits of seconds
_NUMBER = re.compile(r"[0-9]{1,11}(\.[0-9]{0,9})?")  # fullmatch: no "$" before a "\n"


MAX_TIME_TEXT = 40  # "2026-11-24T08:00:00.123456+01:00" is 32


def parse_time(value: object) -> int:
    """Unix seconds (int, or a string of digits) or ISO-8601 text → unix seconds (floored).

    ``2026-11-24T08:00:00Z``, ``2026-11-24T09:00:00+01:00`` and ``2026-11-24 08:00`` (naive, read
    as UTC) all mean the same second. Raises ValueError with an example of what is accepted.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int):
        return _check(value, value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a time: {value!r}")
        return _check(int(value // 1), value)
    if not isinstance(value, str):
        raise ValueError(f"not a time: {type(value).__name__}")
    if len(value) > MAX_TIME_TEXT:  # bounded before any parsing (hostile input)
        raise ValueError(f"not a time: {len(value)} characters (at most {MAX_TIME_TEXT})")
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return _check(int(text.split(".")[0]), value)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"not a time: {value[:40]!r}; use unix seconds (1763971200) or ISO-8601 "
            "(2025-11-24T08:00:00Z; without an offset it is read as UTC)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return _check(int(parsed.timestamp() // 1), value)


DAY = 86_400
DURATION_UNITS = {"d": DAY, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> int:
    """``"7d"``, ``"36h"``, ``"90m"``, ``"30s"`` or plain seconds → seconds (at most
    ``MAX_SECOND``); ValueError with an example of what is accepted."""
    raw = text.strip().lower()[: MAX_TIME_TEXT + 1]  # bounded before any parsing
    scale = DURATION_UNITS.get(raw[-1:], 0)
    number = raw[:-1] if scale else raw
    if not (number.isascii() and number.isdigit()) or len(number) > 11:
        raise ValueError(f"{text[:40]!r} is not a duration like 7d, 36h, 90m or 30s")
    seconds = int(number) * (scale or 1)
    if seconds > MAX_SECOND:
        raise ValueError(f"duration {text[:40]!r} is longer than 1970..2286")
    return seconds


def format_time(second: int) -> str:
    """Unix seconds → ``2026-11-24T08:00:00Z``."""
    return datetime.fromtimestamp(second, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check(second: int, original: object) -> int:
    if not 0 <= second <= MAX_SECOND:
        raise ValueError(f"time {str(original)[:40]!r} is outside 1970..2286")
    return second
