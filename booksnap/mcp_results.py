"""What the MCP server says, without I/O: tools from ``shared/methods.py``, results and errors.

Each query method is one MCP tool whose input schema is ``Method.json_schema()``, the same
definition the query process validates with, so the two can never disagree. A result is the
query process's JSON unchanged (structured content) plus one line a model can quote; an error
reply becomes a tool error naming its code, message and the parameter at fault.
"""

from __future__ import annotations

import json
import math
from typing import Any

import mcp_types as types

from shared.methods import BY_NAME, METHODS, Method
from shared.protocol import (
    BUSY,
    ERROR_NAMES,
    INSUFFICIENT_DATA,
    INVALID_PARAMS,
    INVALID_REQUEST,
    MAX_REQUEST_BYTES,
    NO_DATA_YET,
)

# The key numbers of each tool's summary line, as paths into its result ("bids.0.price": the
# first bid's price; a list is shown by its length). A method without an entry (one added to
# shared/methods.py later) is summarised by its first top-level numbers and words.
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "orderbook_l1": (
        "best_bid",
        "best_ask",
        "spread",
        "spread_bps",
        "mid",
        "imbalance",
        "data_age_ms",
    ),
    "orderbook_l2": (
        "levels_requested",
        "bids.0.price",
        "asks.0.price",
        "bids.-1.cumulative_qty",
        "asks.-1.cumulative_qty",
        "data_age_ms",
    ),
    "get_order_flow": (
        "flow_direction",
        "net_flow",
        "ofi",
        "taker_buy_volume",
        "taker_sell_volume",
        "snapshots_used",
        "trades_used",
    ),
    "get_volume_profile": (
        "point_of_control",
        "value_area_low",
        "value_area_high",
        "bin_size",
        "trades_used",
    ),
    "get_microstructure_health": (
        "overall_score",
        "health_level",
        "spread_stability_score",
        "liquidity_depth_score",
        "flow_balance_score",
        "update_rate_score",
        "snapshots_used",
    ),
    "get_liquidity_vacuums": ("vacuums", "reference_mid", "threshold", "snapshots_used"),
    "detect_market_anomalies": ("anomaly_count", "anomalies", "snapshots_used", "checks_skipped"),
    "query_snapshots": ("snapshots", "start", "end", "next_start"),
    "coverage": ("fraction", "stored_seconds", "expected_seconds", "missing_range_count"),
    "status": ("now", "symbols"),
}
GENERIC_FIELDS = 6  # how many top-level values summarise a method without KEY_FIELDS
MAX_TEXT_VALUE = 80  # characters of one value in a summary line
MAX_MESSAGE = 500  # characters of an error reply's message passed on (the server sends fewer)
MAX_DATA_JSON = 2000  # an error reply's data larger than this as JSON is not passed on

# What a model can do about each kind of error reply.
ADVICE = {
    INSUFFICIENT_DATA: "Use a longer window or one where seconds are stored (the "
    "`booksnap://symbols` resource shows what is stored), or wait for more data.",
    INVALID_PARAMS: "Fix that argument; the tool's input schema gives its type and range.",
    NO_DATA_YET: "The writer has not stored anything yet; retry in a few seconds.",
    BUSY: "The query process is busy; retry shortly.",
}


def tools() -> list[types.Tool]:
    """One tool per query method, generated from ``shared/methods.py``."""
    return [tool(method) for method in METHODS]


def tool(method: Method) -> types.Tool:
    return types.Tool(
        name=method.name,
        description=method.summary,
        input_schema=method.json_schema(),
        # every tool only reads: calling it again changes nothing (the answer may move with time)
        annotations=types.ToolAnnotations(
            read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
        ),
    )


def method_named(name: str) -> Method | None:
    return BY_NAME.get(name)


def unknown_tool(name: str) -> types.CallToolResult:
    shown = name[:60]
    return error_result(
        f"unknown tool {shown!r}; the tools are: {', '.join(m.name for m in METHODS)}",
        {"code": "unknown tool", "tool": shown},
    )


def refusal(
    method: str, params: dict[str, Any], *, in_flight_full: bool
) -> types.CallToolResult | None:
    """A tool error for a call that must not be sent at all, else None."""
    if in_flight_full:
        return error_result(
            f"{method} failed: busy: too many tool calls are waiting for the query process; "
            "retry shortly.",
            {"code": BUSY, "name": ERROR_NAMES[BUSY], "message": "too many calls in flight"},
        )
    size = len(json.dumps(params, separators=(",", ":")))
    if size > MAX_REQUEST_BYTES - 1024:  # room for the envelope
        return error_result(
            f"{method} failed: invalid request: the arguments take {size} bytes of JSON; the "
            f"query process accepts requests up to {MAX_REQUEST_BYTES} bytes.",
            {"code": INVALID_REQUEST, "name": ERROR_NAMES[INVALID_REQUEST], "bytes": size},
        )
    return None


def success(method: str, result: Any) -> types.CallToolResult:
    """The query process's result as structured content, with a one-line summary."""
    structured = result if isinstance(result, dict) else {"result": result}
    return types.CallToolResult(
        content=[types.TextContent(text=summary(method, structured))],
        structured_content=structured,
    )


def query_error(
    method: str, code: int, message: str, data: dict[str, Any] | None
) -> types.CallToolResult:
    """An error reply of the query process as a tool error a model can act on.

    The reply comes from a socket, so its message and data are bounded before they are shown.
    """
    message = message[:MAX_MESSAGE]
    if not isinstance(data, dict) or len(json.dumps(data, default=str)) > MAX_DATA_JSON:
        data = {}
    name = ERROR_NAMES.get(code, "error")
    param = data.get("param") if isinstance(data.get("param"), str) else None
    if code == INSUFFICIENT_DATA and {"what", "have", "needed"} <= set(data):
        words = (
            f"insufficient data: have {_text(data['have'])} {_text(data['what'])}, "
            f"need {_text(data['needed'])} ({message})"
        )
    elif param is not None and param not in message:
        words = f"{name}: parameter `{param}`: {message}"
    else:
        words = f"{name}: {message}"
    advice = ADVICE.get(code)
    text = f"{method} failed: {words}" + (f". {advice}" if advice else "")
    details: dict[str, Any] = {"code": code, "name": name, "message": message}
    if param is not None:
        details["param"] = param
    if data:
        details["data"] = data
    return error_result(text, details)


def bad_reply(method: str, endpoint: str, problem: str) -> types.CallToolResult:
    text = (
        f"{method} failed: what answered at {endpoint} is not the booksnap query process "
        f"({problem[:200]}); check BOOKSNAP_QUERY_ENDPOINT / --endpoint."
    )
    return error_result(text, {"code": "bad reply", "endpoint": endpoint})


def timeout_error(method: str, endpoint: str, timeout: float) -> types.CallToolResult:
    text = (
        f"{method} failed: the query process did not answer at {endpoint} within {timeout:g} s. "
        "It is not running or is overloaded: start it with `booksnap query` (or `make demo` for "
        "the whole pipeline) and retry."
    )
    return error_result(text, {"code": "timeout", "endpoint": endpoint, "timeout_s": timeout})


def error_result(text: str, details: dict[str, Any]) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=text)],
        structured_content={"error": details},
        is_error=True,
    )


def summary(method: str, result: dict[str, Any]) -> str:
    """``get_order_flow BTCUSDT: flow_direction=MODERATE_SELL, net_flow=-0.412258, ...``."""
    paths = KEY_FIELDS.get(method) or _generic_paths(result)
    parts = []
    for path in paths:
        value = _lookup(result, path)
        if value is not _MISSING:
            parts.append(f"{path}={_text(value)}")
    head = method
    if isinstance(result.get("symbol"), str):
        head = f"{head} {result['symbol'][:20]}"
    if isinstance(result.get("window_start"), int) and isinstance(result.get("window_end"), int):
        head = f"{head} [{result['window_start']}, {result['window_end']})"
    return f"{head}: {', '.join(parts)}" if parts else head


_MISSING = object()


def _lookup(result: Any, path: str) -> Any:
    value = result
    for step in path.split("."):
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.lstrip("-").isdigit():
            index = int(step)
            if not -len(value) <= index < len(value):
                return _MISSING
            value = value[index]
        else:
            return _MISSING
    return value


def _generic_paths(result: dict[str, Any]) -> tuple[str, ...]:
    scalars = [
        key
        for key, value in result.items()
        if key not in {"symbol", "window_start", "window_end"}
        and isinstance(value, (int, float, str))
    ]
    return tuple(scalars[:GENERIC_FIELDS])


def _text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower() if value is not None else "null"
    if isinstance(value, float):
        return f"{value:.10g}" if math.isfinite(value) else str(value)
    if isinstance(value, (list, dict)):
        return f"{len(value)} item" + ("" if len(value) == 1 else "s")
    text = str(value)
    return text if len(text) <= MAX_TEXT_VALUE else text[: MAX_TEXT_VALUE - 3] + "..."
