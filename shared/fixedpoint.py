"""Exact 8-decimal fixed-point numbers, as Binance sends prices and quantities.

Values are Python ints scaled by 10**8, so ``"61837.63000000"`` is ``6183763000000``. The largest
value Binance can send, ``"92233720368.54775807"``, is the largest signed 64-bit integer, so every
value also fits MessagePack's int64 and comes back exactly. ``MAX_INT64`` bounds every integer a
record carries (amounts, ids, times).
"""

from __future__ import annotations

SCALE = 100_000_000
DECIMALS = 8
MAX_INT64 = 2**63 - 1


def parse_fixed(text: str) -> int:
    """Parse a non-negative decimal string with at most 8 decimals into a scaled int."""
    if not isinstance(text, str):
        raise ValueError(f"expected a decimal string, got {type(text).__name__}")
    whole, dot, frac = text.partition(".")
    # isascii(): str.isdigit() is also true for other scripts' digits, which int() accepts.
    if (
        not text.isascii()
        or not whole.isdigit()
        or (dot and not frac.isdigit())
        or len(frac) > DECIMALS
    ):
        raise ValueError(f"not an 8-decimal number: {text!r}")
    value = int(whole) * SCALE + int(frac.ljust(DECIMALS, "0") or "0")
    if value > MAX_INT64:
        raise ValueError(f"number out of range: {text!r}")
    return value


def format_fixed(value: int) -> str:
    """Render a scaled int the way Binance does: always 8 decimals."""
    if value < 0:
        return "-" + format_fixed(-value)
    whole, frac = divmod(value, SCALE)
    return f"{whole}.{frac:08d}"


def fixed_to_float(value: int) -> float:
    """Convert for analytics, where exactness is no longer needed."""
    return value / SCALE
