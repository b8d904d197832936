"""Fault injection: what an operator or a test asks for, and the state of faults still pending.

Names and parameters (``POST /admin/fault`` JSON or ``--fault name[:SYMBOL][:k=v,...]``):

- ``gap`` (symbol, count=1): drop the next ``count`` depth events, so a client sees ``U`` jump.
- ``gap_all``: drop the next depth event of every symbol: every client resyncs at once (the
  thundering herd after a network blip, without reconnecting).
- ``corrupt_ticker`` (symbol, count=1): the next ``count`` bookTicker events carry a best bid
  quantity one unit (0.00000001) too large: a client that checks its book against the ticker
  sees a mismatch.
- ``disconnect`` (symbol, code): drop every WebSocket connection (TCP close without a close
  frame, or a close frame with ``code`` when given).
- ``stall`` (symbol, seconds=5): connections stay open but send nothing, then resume with the
  held frames in order.
- ``malformed`` (symbol, count=1): send ``count`` truncated (unparsable) frames before depth
  events.
- ``rest_error`` (symbol, count=1, status=429, retry_after=10): the next depth requests fail.
- ``slow_rest`` (symbol, seconds=3, count=1): delay the next depth requests.
- ``server_shutdown`` (symbol, grace=1): send ``serverShutdown``, then close after ``grace`` s.
- ``clear``: remove every pending fault.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from shared.errors import BooksnapError
from shared.model import validate_symbol

NAMES = (
    "gap",
    "gap_all",
    "corrupt_ticker",
    "disconnect",
    "stall",
    "malformed",
    "rest_error",
    "slow_rest",
    "server_shutdown",
    "clear",
)
REST_STATUSES = (429, 418, 500, 502, 503, 504)
_ALLOWED = {
    "gap": {"count"},
    "gap_all": set(),
    "corrupt_ticker": {"count"},
    "disconnect": {"code"},
    "stall": {"seconds"},
    "malformed": {"count"},
    "rest_error": {"count", "status", "retry_after"},
    "slow_rest": {"seconds", "count"},
    "server_shutdown": {"grace"},
    "clear": set(),
}
ALL = "*"  # the symbol key meaning "any symbol"


class FaultError(BooksnapError):
    """A fault request that names an unknown fault or has bad parameters."""


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    symbol: str | None
    params: dict[str, float] = field(default_factory=dict)

    def int_param(self, key: str, default: int) -> int:
        return int(self.params.get(key, default))

    def float_param(self, key: str, default: float) -> float:
        return float(self.params.get(key, default))

    def describe(self) -> str:
        where = f" on {self.symbol}" if self.symbol else ""
        details = ", ".join(f"{k}={v:g}" for k, v in sorted(self.params.items()))
        return f"{self.name}{where}" + (f" ({details})" if details else "")


def make_fault(name: object, symbol: object = None, **params: object) -> Fault:
    """Validate a fault request; FaultError names what is wrong."""
    if name not in NAMES:
        raise FaultError(f"unknown fault {_clip(name)}; expected one of {', '.join(NAMES)}")
    assert isinstance(name, str)
    checked_symbol = None
    if symbol not in (None, ""):
        try:
            checked_symbol = validate_symbol(str(symbol))
        except ValueError as exc:
            raise FaultError(str(exc)) from exc
    values: dict[str, float] = {}
    for key, value in params.items():
        if key not in _ALLOWED[name]:
            raise FaultError(f"fault {name!r} takes no parameter {_clip(key)}")
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            raise FaultError(f"parameter {key!r} must be a number, got {_clip(value)}") from exc
        if not 0 <= number <= 86_400:
            raise FaultError(f"parameter {key!r} is out of range: {_clip(value)}")
        values[key] = number
    fault = Fault(name, checked_symbol, values)
    if name == "rest_error" and fault.int_param("status", 429) not in REST_STATUSES:
        raise FaultError(f"status must be one of {REST_STATUSES}")
    return fault


def parse_fault_option(text: str) -> Fault:
    """``gap:BTCUSDT:count=2`` or ``rest_error:status=503,count=1`` → Fault."""
    name, *parts = text.split(":")
    symbol: str | None = None
    params: dict[str, object] = {}
    for part in parts:
        if "=" in part:
            for pair in part.split(","):
                key, _, value = pair.partition("=")
                params[key.strip()] = value.strip()
        elif part:
            symbol = part
    return make_fault(name.strip(), symbol, **params)


class FaultBoard:
    """The faults that wait for their moment (the next event, the next request, a deadline)."""

    def __init__(self) -> None:
        self.gaps: dict[str, int] = {}
        self.malformed: dict[str, int] = {}
        self.corrupt_tickers: dict[str, int] = {}
        self.rest_errors: deque[tuple[str, int, int]] = deque()  # (symbol, status, retry_after)
        self.slow_rest: deque[tuple[str, float]] = deque()  # (symbol, seconds)
        self.stalls: dict[str, float] = {}  # symbol → monotonic deadline
        self.injected = 0

    def add(self, fault: Fault, now: float) -> None:
        """Record a stateful fault (gap, malformed, rest_error, slow_rest, stall, clear)."""
        key = fault.symbol or ALL
        self.injected += 1
        if fault.name == "gap":
            self.gaps[key] = self.gaps.get(key, 0) + fault.int_param("count", 1)
        elif fault.name == "corrupt_ticker":
            self.corrupt_tickers[key] = self.corrupt_tickers.get(key, 0) + fault.int_param(
                "count", 1
            )
        elif fault.name == "malformed":
            self.malformed[key] = self.malformed.get(key, 0) + fault.int_param("count", 1)
        elif fault.name == "rest_error":
            status = fault.int_param("status", 429)
            retry = fault.int_param("retry_after", 10)
            self.rest_errors.extend([(key, status, retry)] * fault.int_param("count", 1))
        elif fault.name == "slow_rest":
            seconds = fault.float_param("seconds", 3.0)
            self.slow_rest.extend([(key, seconds)] * fault.int_param("count", 1))
        elif fault.name == "stall":
            self.stalls[key] = max(self.stalls.get(key, 0.0), now + fault.float_param("seconds", 5))
        elif fault.name == "clear":
            self.clear()

    def clear(self) -> None:
        self.gaps.clear()
        self.malformed.clear()
        self.corrupt_tickers.clear()
        self.rest_errors.clear()
        self.slow_rest.clear()
        self.stalls.clear()

    def take_gap(self, symbol: str) -> bool:
        return _take(self.gaps, symbol)

    def take_corrupt_ticker(self, symbol: str) -> bool:
        return _take(self.corrupt_tickers, symbol)

    def take_malformed(self, symbol: str) -> bool:
        return _take(self.malformed, symbol)

    def take_rest_error(self, symbol: str) -> tuple[int, int] | None:
        for item in self.rest_errors:
            if item[0] in (symbol, ALL):
                self.rest_errors.remove(item)
                return item[1], item[2]
        return None

    def take_slow_rest(self, symbol: str) -> float:
        for item in self.slow_rest:
            if item[0] in (symbol, ALL):
                self.slow_rest.remove(item)
                return item[1]
        return 0.0

    def stalled(self, symbols: set[str], now: float) -> bool:
        """Is a connection carrying these symbols stalled right now?"""
        if not self.stalls:
            return False
        for key, deadline in list(self.stalls.items()):
            if deadline <= now:
                del self.stalls[key]
            elif key == ALL or key in symbols:
                return True
        return False

    def pending(self, now: float) -> dict[str, object]:
        return {
            "gap": dict(self.gaps),
            "malformed": dict(self.malformed),
            "corrupt_ticker": dict(self.corrupt_tickers),
            "rest_error": [list(item) for item in self.rest_errors],
            "slow_rest": [list(item) for item in self.slow_rest],
            "stall": {k: round(d - now, 3) for k, d in self.stalls.items() if d > now},
        }


def _take(counts: dict[str, int], symbol: str) -> bool:
    for key in (symbol, ALL):
        if counts.get(key, 0) > 0:
            counts[key] -= 1
            if not counts[key]:
                del counts[key]
            return True
    return False


def _clip(value: object) -> str:
    """A value from a request, for an error message: at most 40 characters of its repr."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
