"""Validators for request parameters that arrive as JSON (int, float or numeric string)."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from query.analytics.errors import ParameterError
from shared.fixedpoint import DECIMALS, MAX_INT64, SCALE
from shared.methods import BY_NAME
from shared.model import validate_symbol

# Ranges and defaults come from their one definition, shared/methods.py.
_WINDOW = BY_NAME["get_order_flow"].param("window_duration_secs")
_QUALITY_WINDOW = BY_NAME["get_market_quality"].param("window_duration_secs")
_PROFILE_HOURS = BY_NAME["get_volume_profile"].param("duration_hours")
_VACUUM_HOURS = BY_NAME["get_liquidity_vacuums"].param("duration_hours")
_LEVELS = BY_NAME["orderbook_l2"].param("levels")
(WINDOW_LOW, WINDOW_HIGH), WINDOW_DEFAULT = _WINDOW.bounds(), _WINDOW.default
(QUALITY_WINDOW_LOW, QUALITY_WINDOW_HIGH) = _QUALITY_WINDOW.bounds()
QUALITY_WINDOW_DEFAULT = _QUALITY_WINDOW.default
(HOURS_LOW, HOURS_HIGH), PROFILE_HOURS_DEFAULT = _PROFILE_HOURS.bounds(), _PROFILE_HOURS.default
VACUUM_HOURS_HIGH = _VACUUM_HOURS.bounds()[1]  # 86,400 full books: the most one request decodes
VACUUM_HOURS_DEFAULT = _VACUUM_HOURS.default
(LEVELS_LOW, LEVELS_HIGH), LEVELS_DEFAULT = _LEVELS.bounds(), _LEVELS.default
THRESHOLD_DEFAULT = BY_NAME["get_liquidity_vacuums"].param("threshold").default
# A numeric string is plain ASCII digits, at most one point, an optional leading minus, and
# short: checked before any conversion, so "1e999999999" or 300,000 digits cost O(1).
MAX_NUMBER_CHARS = 32
PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


def plain_number(value: str, name: str, allowed: str) -> Decimal:
    """The Decimal of a short plain numeric string; ParameterError for anything else.

    The length is checked first (O(1)), the pattern only on at most MAX_NUMBER_CHARS chars, and
    only then is the text converted: an exponent, a hex or Unicode digit, spaces, signs other
    than a leading minus, NaN or infinity never reach Decimal.
    """
    if len(value) > MAX_NUMBER_CHARS:
        raise ParameterError(name, f"{allowed}, got a string of {len(value)} characters")
    if not PLAIN_NUMBER.fullmatch(value):
        raise ParameterError(name, f"{allowed}, got {value!r}")
    return Decimal(value)


def check_symbol(value: object) -> str:
    """Upper-cased, validated symbol; ParameterError('symbol') otherwise."""
    if value is None:
        raise ParameterError("symbol", "required, e.g. BTCUSDT")
    try:
        return validate_symbol(value)  # type: ignore[arg-type]  # it checks the type itself
    except ValueError as exc:
        raise ParameterError(
            "symbol", f"must be 2-20 letters or digits, e.g. BTCUSDT, got {str(value)[:40]!r}"
        ) from exc


def check_int_range(value: object, name: str, low: int, high: int, default: int) -> int:
    """An integer in [low, high] from int, integral float or numeric string; None -> default."""
    if value is None:
        return default
    allowed = f"must be an integer from {low} to {high}"
    # bool is an int subclass, but True as a window length is a client bug, not 1 second.
    if isinstance(value, bool):
        raise ParameterError(name, f"{allowed}, got {value!r}")
    number: int
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ParameterError(name, f"{allowed}, got {value!r}")
        number = int(value)
    elif isinstance(value, str):
        parsed = plain_number(value, name, allowed)
        if parsed != parsed.to_integral_value():
            raise ParameterError(name, f"{allowed}, got {value!r}")
        number = int(parsed)
    else:
        raise ParameterError(name, f"{allowed}, got {type(value).__name__}")
    if not low <= number <= high:
        raise ParameterError(name, f"{allowed}, got {number}")
    return number


def check_window(value: object, name: str = "window_duration_secs") -> int:
    """Window length in seconds, 10..300, default 60."""
    return check_int_range(value, name, WINDOW_LOW, WINDOW_HIGH, WINDOW_DEFAULT)


def check_quality_window(value: object, name: str = "window_duration_secs") -> int:
    """Market-quality window length in seconds, 60..3600, default 300."""
    return check_int_range(
        value, name, QUALITY_WINDOW_LOW, QUALITY_WINDOW_HIGH, QUALITY_WINDOW_DEFAULT
    )


def check_hours(
    value: object,
    name: str = "duration_hours",
    low: int = HOURS_LOW,
    high: int = HOURS_HIGH,
    default: int = PROFILE_HOURS_DEFAULT,
) -> int:
    """Period length in hours, 1..168, default 24 (volume profile)."""
    return check_int_range(value, name, low, high, default)


def check_vacuum_hours(value: object, name: str = "duration_hours") -> int:
    """Vacuum period length in hours, 1..24, default 1."""
    return check_int_range(value, name, HOURS_LOW, VACUUM_HOURS_HIGH, VACUUM_HOURS_DEFAULT)


def check_levels(value: object, name: str = "levels") -> int:
    """Number of book levels per side, 1..100, default 20."""
    return check_int_range(value, name, LEVELS_LOW, LEVELS_HIGH, LEVELS_DEFAULT)


def check_tick_size(value: object, name: str = "tick_size") -> int | None:
    """A positive price step as a scaled int, exact via its decimal string; None allowed."""
    if value is None:
        return None
    allowed = 'must be a positive number with at most 8 decimals, e.g. "0.01" or 10'
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ParameterError(name, f"{allowed}, got {type(value).__name__}")
    if isinstance(value, str):
        parsed = plain_number(value, name, allowed)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterError(name, f"{allowed}, got {value!r}")
        # The shortest decimal string keeps 0.1 exact (never 0.1000000000000000055).
        parsed = Decimal(repr(value))
    else:
        if value.bit_length() > 64:  # beyond any price; int -> Decimal of a huge int is slow
            raise ParameterError(name, f"{allowed}, got an integer of {value.bit_length()} bits")
        parsed = Decimal(value)
    if parsed <= 0:
        raise ParameterError(name, f"{allowed}, got {value!r}")
    scaled = parsed * SCALE
    if scaled != scaled.to_integral_value():
        raise ParameterError(name, f"{allowed} (at most {DECIMALS} decimals), got {value!r}")
    result = int(scaled)
    if result > MAX_INT64:
        raise ParameterError(name, f"{allowed}, got {value!r} (too large)")
    return result


def check_threshold(value: object, name: str = "threshold") -> float:
    """A fraction strictly between 0 and 1 (vacuum depth threshold), default 0.2."""
    if value is None:
        return THRESHOLD_DEFAULT
    allowed = "must be a number greater than 0 and less than 1"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ParameterError(name, f"{allowed}, got {type(value).__name__}")
    if isinstance(value, str):
        number = float(plain_number(value, name, allowed))
    elif isinstance(value, int) and value.bit_length() > 64:
        raise ParameterError(name, f"{allowed}, got an integer of {value.bit_length()} bits")
    else:
        number = float(value)
    if not (math.isfinite(number) and 0.0 < number < 1.0):
        raise ParameterError(name, f"{allowed}, got {value!r}")
    return number
