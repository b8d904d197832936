"""The query process's methods and their parameters: the one definition of the request API.

The query process validates every request against these (``query/arguments.py``), the command
line takes its option ranges and defaults from them (``booksnap/commands.py``), the MCP server
turns them into JSON Schemas (``json_schema``) and a test checks docs/analytics.md against them.
Change a name, a range, a default or a description here and every door follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

# What a parameter holds; the query process has one strict parser per kind.
Kind = Literal["symbol", "int", "time", "decimal", "fraction", "bool"]
Source = Literal["live", "db"]  # answered from the live stream (main process) or the database

TIME_HELP = "unix seconds or ISO-8601 UTC time (e.g. 2026-11-24T08:00:00Z)"


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: Kind
    description: str
    default: Any = None  # None: optional without a default, unless ``required``
    low: int | None = None  # inclusive bounds of an "int"
    high: int | None = None
    required: bool = False

    def bounds(self) -> tuple[int, int]:
        """(low, high) of an "int" parameter."""
        if self.low is None or self.high is None:
            raise TypeError(f"{self.name} is not a bounded int parameter")
        return self.low, self.high

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of this parameter (what a client may send)."""
        schema: dict[str, Any]
        if self.kind == "symbol":
            schema = {"type": "string", "pattern": "^[A-Za-z0-9]{2,20}$"}
        elif self.kind == "int":
            schema = {"type": "integer", "minimum": self.low, "maximum": self.high}
        elif self.kind == "time":
            schema = {"type": ["integer", "string"]}
        elif self.kind == "decimal":
            schema = {"type": ["number", "string"], "exclusiveMinimum": 0}
        elif self.kind == "fraction":
            schema = {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
        else:
            schema = {"type": "boolean"}
        schema["description"] = self.description
        if self.default is not None:
            schema["default"] = self.default
        return schema


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    source: Source
    summary: str  # what it measures and how to read the result; shown to people and models
    params: tuple[Param, ...]

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of this method's ``params`` object."""
        return {
            "type": "object",
            "properties": {p.name: p.json_schema() for p in self.params},
            "required": [p.name for p in self.params if p.required],
            "additionalProperties": False,
        }


SYMBOL = Param("symbol", "symbol", "Binance spot symbol, e.g. BTCUSDT.", required=True)
END = Param(
    "end",
    "time",
    f"Exclusive end of the window, {TIME_HELP}; default now. The last second used is end - 1.",
)
WINDOW = Param(
    "window_duration_secs",
    "int",
    "Window length in seconds, ending at `end`.",
    default=60,
    low=10,
    high=300,
)
START_INCLUSIVE = Param("start", "time", f"First second (inclusive), {TIME_HELP}.")
END_INCLUSIVE = Param("end", "time", f"Last second (inclusive), {TIME_HELP}; default now - 1.")


def _window_method(name: str, summary: str) -> Method:
    return Method(name, "db", summary, (SYMBOL, WINDOW, END))


METHODS: tuple[Method, ...] = (
    Method(
        "orderbook_l1",
        "live",
        "Best bid and ask of the latest live book (updated up to 10 times a second): spread "
        "(exact, and in bps of the mid), mid, top-of-book imbalance, walls (levels at least 5x "
        "the median size) and the slippage of market orders on each side. Prices and sizes are "
        "exact 8-decimal strings; ages say how old the book is.",
        (SYMBOL,),
    ),
    Method(
        "orderbook_l2",
        "live",
        "The best `levels` price levels per side of the latest live book, best first, with "
        "cumulative quantities. Prices and sizes are exact 8-decimal strings.",
        (
            SYMBOL,
            Param("levels", "int", "Levels per side.", default=20, low=1, high=100),
        ),
    ),
    _window_method(
        "get_order_flow",
        "Order flow over a window of stored 1-second books and trades: liquidity added and "
        "cancelled per side (base-asset quantity), aggressive buy and sell volume and order-flow "
        "imbalance. Needs at least two stored seconds in the window.",
    ),
    Method(
        "get_volume_profile",
        "db",
        "Traded volume by price over the last `duration_hours` hours: the point of control "
        "(most traded price), the 70% value area, and per-bin volume, trade count and taker-buy "
        "volume. Exact: every stored trade counts once.",
        (
            SYMBOL,
            Param("duration_hours", "int", "Hours of history.", default=24, low=1, high=168),
            Param(
                "tick_size",
                "decimal",
                "Price bin width (a multiple of the symbol's tick); default: the smallest "
                "multiple of the tick giving at most 100 bins.",
            ),
            END,
        ),
    ),
    _window_method(
        "get_microstructure_health",
        "A 0-100 health score of the book over the window: spread stability, depth, resilience "
        "and update activity, each compared with the 10 minutes before the window and returned "
        "with its raw measure (higher is healthier).",
    ),
    Method(
        "get_liquidity_vacuums",
        "db",
        "Price bands near the mid whose resting depth fell below `threshold` of their usual "
        "depth over the last `duration_hours` hours: where a market order would move the price "
        "most. Bands are whole ticks from the mid.",
        (
            SYMBOL,
            Param("duration_hours", "int", "Hours of history.", default=1, low=1, high=24),
            Param(
                "threshold",
                "fraction",
                "Depth below this fraction of the band's median depth counts as a vacuum.",
                default=0.2,
            ),
            END,
        ),
    ),
    _window_method(
        "detect_market_anomalies",
        "Quote stuffing, spoofing-like orders, iceberg orders and flash-crash risk in the window, "
        "each judged against the symbol's own preceding 10 minutes and returned with severity, "
        "confidence (0-1, higher is stronger) and its evidence. An empty list is the usual "
        "answer.",
    ),
    Method(
        "get_market_quality",
        "db",
        "Market quality over a window of stored seconds: realised volatility and bipower "
        "variation of the 1 s mid (per window and annualised, so jumps can be told apart), the "
        "price impact of order-flow imbalance (slope, R², n) and multi-level OFI, time-weighted "
        "quoted spread and touch depth, and the effective spread, 5 s / 30 s realised spread and "
        "price impact of the stored trades. Definitions in docs/analytics.md.",
        (
            SYMBOL,
            Param(
                "window_duration_secs",
                "int",
                "Window length in seconds, ending at `end`.",
                default=300,
                low=60,
                high=3600,
            ),
            END,
        ),
    ),
    Method(
        "query_snapshots",
        "db",
        "Stored 1-second books (and optionally trades) from `start` to `end`, exactly as "
        "received; one page of at most `limit` seconds, continue from `next_start`.",
        (
            SYMBOL,
            Param("start", "time", f"First second (inclusive), {TIME_HELP}.", required=True),
            END_INCLUSIVE,
            Param("limit", "int", "Seconds per page.", default=3600, low=1, high=3600),
            Param("levels", "int", "Levels per side.", default=5000, low=1, high=5000),
            Param("trades", "bool", "Include each second's trades.", default=False),
        ),
    ),
    Method(
        "coverage",
        "db",
        "Which seconds of a period are stored: the fraction, the count, and the missing ranges. "
        "Give `start` (and `end`) or `duration_hours`.",
        (
            SYMBOL,
            START_INCLUSIVE,
            END_INCLUSIVE,
            Param("duration_hours", "int", "The last N hours.", default=1, low=1, high=192),
        ),
    ),
    Method(
        "status",
        "db",
        "Per-symbol stream health (publishing, last stored second, seconds stored in the last "
        "minute and hour) and the writer's own status.",
        (),
    ),
)

BY_NAME: dict[str, Method] = {method.name: method for method in METHODS}
NAMES: tuple[str, ...] = tuple(sorted(BY_NAME))
