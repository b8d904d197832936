"""Readable terminal output for the query replies: key/value blocks, tables, a histogram.

Every renderer takes the JSON-ready result and returns text; ``--json`` bypasses them. Unknown
fields are still shown (as ``key: value`` lines), so a renderer never hides new analytics output.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shared.times import format_time

BAR_WIDTH = 40
MAX_HISTOGRAM_ROWS = 100  # automatic profiles have at most 100 bins: never merged
# Derived statistics that tables round, and to how many decimals (--json keeps every digit).
ROUNDED = {"bps": 4, "score": 1}
ROUNDING_NOTE = "bps are shown to 4 decimals and scores to 1; --json has every digit"
MAX_EPOCH_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z; larger is shown as a number
MAX_EPOCH_SECOND = MAX_EPOCH_MS // 1000


def is_epoch_ms(key: str) -> bool:
    """Millisecond epochs (``ts_event``, ``ts_recv``, ``ts_trade``); ``*_age_ms`` are durations."""
    return key.startswith("ts_")


def is_epoch_second(key: str) -> bool:
    """Unix-second times (docs/analytics.md): ``timestamp``, ``start``, ``end``, ``second`` and
    ``*_timestamp``, ``*_start``, ``*_end``, ``*_second``; ``*_seconds`` are durations and
    ``*_per_second`` rates."""
    return (
        key in ("timestamp", "start", "end", "second")
        or key.endswith(("_timestamp", "_start", "_end", "_second"))
    ) and not key.endswith("per_second")


def rounding_of(key: str) -> int | None:
    """Decimals a table shows for ``key`` when it is a rounded statistic, else None (exact)."""
    for marker, decimals in ROUNDED.items():
        if marker in key:
            return decimals
    return None


def format_epoch_ms(value: int) -> str:
    """Milliseconds since the epoch → ``2026-11-24T08:00:00.123Z``."""
    seconds, millis = divmod(value, 1000)
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}Z"


def format_float(value: float) -> str:
    """A float with every digit it carries and no exponent (``61836.005``, ``0.00001``)."""
    if not math.isfinite(value):
        return str(value)
    text = format(Decimal(repr(value)), "f")
    return text[:-2] if text.endswith(".0") else text


def render_value(value: Any, key: str = "") -> str:
    """One cell. Numbers keep their exact digits: prices, sizes and notionals are never rounded;
    fields named ``*bps*``/``*score*`` are rounded to ``ROUNDED`` decimals; millisecond epochs
    (``ts_*``) and unix seconds (``is_epoch_second``) are UTC times; None is '-'; long lists by
    length."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and is_epoch_ms(key) and 0 <= value <= MAX_EPOCH_MS:
        return format_epoch_ms(value)
    if isinstance(value, int) and is_epoch_second(key) and 0 <= value <= MAX_EPOCH_SECOND:
        return format_time(value)
    if isinstance(value, float):
        decimals = rounding_of(key)
        return format_float(value) if decimals is None else f"{value:.{decimals}f}"
    if isinstance(value, list) and not value:
        return "none"
    if isinstance(value, list):
        return (
            ", ".join(render_value(item, key) for item in value)
            if len(value) <= 8
            else f"[{len(value)} items]"
        )
    return str(value)


def _has_rounded(result: dict[str, Any]) -> bool:
    return any(
        rounding_of(key) is not None and isinstance(value, float) for key, value in result.items()
    )


def render_mapping(result: dict[str, Any], skip: Sequence[str] = (), indent: int = 0) -> str:
    """``key: value`` lines, aligned; nested maps indented, lists of maps as tables."""
    lines: list[str] = []
    keys = [key for key in result if key not in skip]
    width = max((len(key) for key in keys), default=0)
    pad = " " * indent
    for key in keys:
        value = result[key]
        if isinstance(value, dict):
            lines.append(f"{pad}{key}:")
            lines.append(render_mapping(value, indent=indent + 2) if value else f"{pad}  -")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.append(f"{pad}{key}:")
            lines.append(render_table(value, indent=indent + 2))
        else:
            lines.append(f"{pad}{key.ljust(width)}  {render_value(value, key)}")
    if indent == 0 and _mentions_rounded(result):
        lines.append(f"({ROUNDING_NOTE})")
    return "\n".join(line for line in lines if line)


def _mentions_rounded(result: dict[str, Any]) -> bool:
    """Whether a rounded statistic appears anywhere in ``result`` (nested maps and rows too)."""
    if _has_rounded(result):
        return True
    for value in result.values():
        if isinstance(value, dict) and _mentions_rounded(value):
            return True
        if isinstance(value, list) and any(
            isinstance(v, dict) and _mentions_rounded(v) for v in value
        ):
            return True
    return False


def render_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[str] = (), indent: int = 0
) -> str:
    """A plain aligned table of dict rows (columns: the given ones, else the union in order)."""
    if not rows:
        return " " * indent + "(none)"
    if not columns:
        seen: dict[str, None] = {}
        for row in rows:
            seen.update(dict.fromkeys(row))
        columns = list(seen)
    cells = [[render_value(row.get(column), column) for column in columns] for row in rows]
    widths = [
        max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)
    ]
    pad = " " * indent
    out = [pad + "  ".join(column.ljust(w) for column, w in zip(columns, widths, strict=True))]
    out.append(pad + "  ".join("-" * w for w in widths))
    out.extend(
        pad + "  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True))
        for line in cells
    )
    return "\n".join(out)


def render_l2(result: dict[str, Any]) -> str:
    """Bids and asks side by side, best first, with any summary fields above."""
    bids = result.get("bids") or []
    asks = result.get("asks") or []
    head = render_mapping(result, skip=("bids", "asks"))
    rows = []
    for i in range(max(len(bids), len(asks))):
        row: dict[str, Any] = {"#": i + 1}
        row.update(_side(bids[i] if i < len(bids) else None, "bid"))
        row.update(_side(asks[i] if i < len(asks) else None, "ask"))
        rows.append(row)
    return head + "\n\n" + render_table(rows)


def _side(level: Any, side: str) -> dict[str, Any]:
    if level is None:
        return {f"{side} price": "", f"{side} qty": "", f"{side} cum": ""}
    if isinstance(level, dict):
        return {
            f"{side} price": level.get("price"),
            f"{side} qty": level.get("qty", level.get("quantity")),
            f"{side} cum": level.get("cumulative_qty", level.get("cumulative")),
        }
    price, qty = level[0], level[1]
    return {f"{side} price": price, f"{side} qty": qty, f"{side} cum": ""}


def render_volume_profile(result: dict[str, Any]) -> str:
    """Summary, then a horizontal histogram (high prices on top) marking POC and value area."""
    bins = result.get("histogram") or []
    head = render_mapping(result, skip=("histogram",))
    if not bins:
        return head
    rows = _merge_bins(bins, MAX_HISTOGRAM_ROWS)
    poc = _to_float(result.get("point_of_control"))
    va_low = _to_float(result.get("value_area_low"))
    va_high = _to_float(result.get("value_area_high"))
    peak = max(volume for _, _, volume in rows) or 1.0
    label_width = max(len(f"{low} - {high}") for low, high, _ in rows)
    lines = [
        "",
        f"{'price bin'.ljust(label_width)}  volume (█ = value area, ░ = outside, ◀ POC)",
    ]
    for low, high, volume in reversed(rows):
        low_f, high_f = float(low), float(high)
        # A merged row counts as inside the value area when its middle is.
        middle = (low_f + high_f) / 2
        inside = va_low is not None and va_high is not None and va_low <= middle <= va_high
        bar = ("█" if inside else "░") * max(
            1 if volume > 0 else 0, round(BAR_WIDTH * volume / peak)
        )
        mark = "  ◀ POC" if poc is not None and low_f <= poc < high_f else ""
        label = f"{low} - {high}".ljust(label_width)
        lines.append(f"{label}  {bar.ljust(BAR_WIDTH)} {format_float(volume)}{mark}")
    return head + "\n" + "\n".join(lines)


def _merge_bins(bins: Sequence[dict[str, Any]], limit: int) -> list[tuple[str, str, float]]:
    """(low, high, volume) rows; consecutive bins are merged so at most ``limit`` rows remain."""
    group = max(1, -(-len(bins) // limit))
    rows = []
    for i in range(0, len(bins), group):
        chunk = bins[i : i + group]
        volume = sum(float(b.get("volume") or 0.0) for b in chunk)
        rows.append((str(chunk[0].get("price_low")), str(chunk[-1].get("price_high")), volume))
    return rows


def _to_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


_WRITER_TIMES = ("updated", "started")  # the status record's time fields


def render_status(result: dict[str, Any]) -> str:
    """Database line, one row per symbol, then the writer's counters."""
    db = result.get("database", {})
    size = db.get("size_bytes", 0) / 1_048_576
    state = "open" if db.get("open") else f"not open ({db.get('error', 'unknown')})"
    lines = [
        f"now       {format_time(result['now'])}",
        f"database  {db.get('path')}: {state}, {size:.1f} MiB",
    ]
    rows = []
    for symbol, entry in result.get("symbols", {}).items():
        live = entry.get("live") or {}
        writer = entry.get("writer") or {}
        last = entry.get("last_stored_second")
        rows.append(
            {
                "symbol": symbol,
                "publishing": entry.get("publishing"),
                "last stored": format_time(last) if last else None,
                "lag s": entry.get("last_stored_age_s"),
                "stored 1m": entry.get("stored_last_minute"),
                "stored 1h": entry.get("stored_last_hour"),
                # Collector sessions seen on the live stream: the first is its start, not a restart.
                "restarts": _restarts(live.get("sessions_seen")),
                "resyncs": live.get("resyncs"),
                "seq gaps": live.get("snapshot_seq_gaps"),
                "writer gaps": writer.get("gaps"),
                "missing s": writer.get("missing"),
            }
        )
    lines.append("")
    lines.append(
        render_table(rows) if rows else "no symbols seen yet (no live stream, nothing stored)"
    )
    writer_record = result.get("writer")
    if isinstance(writer_record, dict):
        # Its times are unix seconds on the wire (storage.md, the status record): shown in UTC.
        shown = {
            key: format_time(value) if key in _WRITER_TIMES and isinstance(value, int) else value
            for key, value in writer_record.items()
        }
        lines.append("")
        lines.append("writer:")
        lines.append(render_mapping(shown, skip=("symbols", "v"), indent=2))
    lines.append(f"\ninvalid live messages dropped: {result.get('live_invalid_messages', 0)}")
    return "\n".join(lines)


def render_coverage(result: dict[str, Any]) -> str:
    """Fraction stored and the missing ranges."""
    lines = [
        f"{result['symbol']} {format_time(result['start'])} .. {format_time(result['end'])}",
        f"stored {result['stored_seconds']} of {result['expected_seconds']} seconds "
        f"({100.0 * result['fraction']:.2f} %), {result['missing_seconds']} missing "
        f"in {result['missing_range_count']} range(s)",
    ]
    if result.get("missing"):
        rows = [
            {"from": format_time(m["start"]), "to": format_time(m["end"]), "seconds": m["seconds"]}
            for m in result["missing"]
        ]
        lines.append("")
        lines.append(render_table(rows))
        if result.get("missing_truncated"):
            lines.append(f"... only the first {len(rows)} ranges are listed")
    return "\n".join(lines)


def render_snapshot_row(snap: dict[str, Any]) -> dict[str, Any]:
    """One compact table row of a snapshot (the full book is in ``--json``)."""
    bids, asks = snap.get("bids") or [], snap.get("asks") or []
    return {
        "time": snap["time"],
        "best bid": bids[0][0] if bids else None,
        "bid qty": bids[0][1] if bids else None,
        "best ask": asks[0][0] if asks else None,
        "ask qty": asks[0][1] if asks else None,
        "levels": f"{len(bids)}/{len(asks)}",
        "trades": len(snap["trades"]) if "trades" in snap else None,
        "update_id": snap.get("update_id"),
        "ts_event": snap.get("ts_event"),  # shown as a UTC time with milliseconds
    }


def _restarts(sessions_seen: object) -> int | None:
    return max(sessions_seen - 1, 0) if isinstance(sessions_seen, int) else None
