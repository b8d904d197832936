"""DbHandlers: one function per database-backed method: check params, load data, run analytics.

They run in the database worker process (``query/dbprocess.py``); the live methods are in
``query/live_handlers.py``. Analytics windows are half-open ``[end - window, end)`` in unix
seconds, ``end`` defaulting to now, so the latest complete second (``end - 1``) is the last one
included. ``query_snapshots`` and ``coverage`` take inclusive ``start``/``end`` seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from query import analytics
from query.analytics import History, ParameterError
from query.analytics.params import check_int_range, check_threshold
from query.reader import SecondaryReader
from query.snapshots import snapshot_json
from query.times import format_time, parse_time
from query.volume_reader import volume_columns
from shared.clock import Clock
from shared.model import BookSnapshot, Trade

MAX_SNAPSHOTS_PER_REPLY = 3600  # ~1 h of 20-level books is a few MB of JSON; more must page
MAX_REPLY_LEVELS = 400_000  # book levels per query_snapshots reply (~12 MB of JSON)
MAX_COVERAGE_SECONDS = 8 * 86_400  # a week of retention plus slack; keys only, ~0.5 s
MAX_MISSING_RANGES = 1000

Params = dict[str, Any]


LIVE_METHODS = ("orderbook_l1", "orderbook_l2")
DB_METHODS = (
    "get_order_flow",
    "get_volume_profile",
    "get_microstructure_health",
    "get_liquidity_vacuums",
    "detect_market_anomalies",
    "get_market_quality",
    "query_snapshots",
    "status",
    "coverage",
)
METHODS = tuple(sorted((*LIVE_METHODS, *DB_METHODS)))


class DbHandlers:
    """The methods answered from the database, in the database worker process."""

    def __init__(self, reader: SecondaryReader, clock: Clock) -> None:
        self.reader = reader
        self.clock = clock
        self.methods: dict[str, Callable[[Params, dict[str, Any]], Any]] = {
            "get_order_flow": self.get_order_flow,
            "get_volume_profile": self.get_volume_profile,
            "get_microstructure_health": self.get_microstructure_health,
            "get_liquidity_vacuums": self.get_liquidity_vacuums,
            "detect_market_anomalies": self.detect_market_anomalies,
            "get_market_quality": self.get_market_quality,
            "query_snapshots": self.query_snapshots,
            "status": self.status,
            "coverage": self.coverage,
        }

    def get_order_flow(self, params: Params, _: dict[str, Any]) -> Any:
        symbol, start, end = self._window(params)
        snaps, trades = self._load(analytics.FLOW_HISTORY, symbol, start, end)
        return analytics.get_order_flow(
            snaps, trades, symbol=symbol, window_start=start, window_end=end
        )

    def get_microstructure_health(self, params: Params, _: dict[str, Any]) -> Any:
        symbol, start, end = self._window(params)
        snaps, trades = self._load(analytics.HEALTH_HISTORY, symbol, start, end)
        return analytics.get_microstructure_health(
            snaps, trades, symbol=symbol, window_start=start, window_end=end
        )

    def detect_market_anomalies(self, params: Params, _: dict[str, Any]) -> Any:
        symbol, start, end = self._window(params)
        snaps, trades = self._load(analytics.ANOMALIES_HISTORY, symbol, start, end)
        return analytics.detect_market_anomalies(
            snaps, trades, symbol=symbol, window_start=start, window_end=end
        )

    def get_market_quality(self, params: Params, _: dict[str, Any]) -> Any:
        check_known(params, {"symbol", "window_duration_secs", "end"})
        symbol = analytics.check_symbol(params.get("symbol"))
        window = analytics.check_quality_window(params.get("window_duration_secs"))
        end = self._end(params)
        snaps, trades = self._load(analytics.QUALITY_HISTORY, symbol, end - window, end)
        return analytics.get_market_quality(
            snaps, trades, symbol=symbol, window_start=end - window, window_end=end
        )

    def get_volume_profile(self, params: Params, _: dict[str, Any]) -> Any:
        check_known(params, {"symbol", "duration_hours", "tick_size", "end"})
        symbol = analytics.check_symbol(params.get("symbol"))
        hours = analytics.check_hours(params.get("duration_hours"))
        tick_size = analytics.check_tick_size(params.get("tick_size"))
        end = self._end(params)
        start = end - hours * 3600
        self.reader.refresh()
        # The writer's per-minute/per-hour aggregates plus raw trades at the edges: exactly the
        # rows ``rows_from_trades`` gives over the window's trades, merged as numpy columns.
        columns = volume_columns(self.reader, symbol, start, end - 1).merged()
        # No instrument tick is stored: the profile derives it from the prices (derived_tick).
        return analytics.get_volume_profile_columns(
            columns, symbol=symbol, start=start, end=end, tick_size=tick_size, symbol_tick=None
        )

    def get_liquidity_vacuums(self, params: Params, _: dict[str, Any]) -> Any:
        check_known(params, {"symbol", "duration_hours", "threshold", "end"})
        symbol = analytics.check_symbol(params.get("symbol"))
        hours = analytics.check_vacuum_hours(params.get("duration_hours"))
        threshold = check_threshold(params.get("threshold"))
        end = self._end(params)
        start = end - hours * 3600
        self.reader.refresh()
        snaps = self.reader.snapshots(symbol, start, end - 1, hours * 3600)
        return analytics.get_liquidity_vacuums(
            snaps, symbol=symbol, start=start, end=end, threshold=threshold
        )

    def _window(self, params: Params) -> tuple[str, int, int]:
        check_known(params, {"symbol", "window_duration_secs", "end"})
        symbol = analytics.check_symbol(params.get("symbol"))
        window = analytics.check_window(params.get("window_duration_secs"))
        end = self._end(params)
        return symbol, end - window, end

    def _end(self, params: Params) -> int:
        """The exclusive end of the window: ``params["end"]`` or now (floored)."""
        now = int(self.clock.now())
        value = params.get("end")
        if value is None:
            return now
        try:
            end = parse_time(value)
        except ValueError as exc:
            raise ParameterError("end", str(exc)) from exc
        if end > now:
            raise ParameterError(
                "end", f"{format_time(end)} is in the future (now {format_time(now)})"
            )
        return end

    def _load(
        self, history: History, symbol: str, start: int, end: int
    ) -> tuple[list[BookSnapshot], list[Trade]]:
        first = start - history.snapshots
        self.reader.refresh()
        snaps = self.reader.snapshots(symbol, first, end - 1, end - first, cached=True)
        # Through second ``end``: the last book's last depth event may carry an exchange time
        # past the local second boundary, and a trade belongs to the books around it.
        trades = _flatten(self.reader.trades(symbol, start - history.trades, end))
        return snaps, trades

    # --- raw data, status and coverage ----------------------------------------------------------

    def query_snapshots(self, params: Params, _: dict[str, Any]) -> Any:
        """Stored snapshots of ``start..end`` (inclusive), at most ``limit``; page on next_start."""
        check_known(params, {"symbol", "start", "end", "limit", "levels", "trades"})
        symbol = analytics.check_symbol(params.get("symbol"))
        start, end = self._range(params)
        limit = check_int_range(
            params.get("limit"), "limit", 1, MAX_SNAPSHOTS_PER_REPLY, MAX_SNAPSHOTS_PER_REPLY
        )
        levels = check_int_range(params.get("levels"), "levels", 1, 5000, 5000)
        with_trades = params.get("trades", False)
        if not isinstance(with_trades, bool):
            raise ParameterError("trades", f"must be true or false, got {with_trades!r}")
        self.reader.refresh()
        # A page ends after ``limit`` snapshots or once it holds MAX_REPLY_LEVELS levels (deep
        # books make shorter pages); the first snapshot not sent is where the next page starts.
        snaps: list[BookSnapshot] = []
        next_start: int | None = None
        budget = MAX_REPLY_LEVELS
        for snap in self.reader.iter_snapshots(symbol, start, end):
            budget -= min(levels, len(snap.bids)) + min(levels, len(snap.asks))
            if len(snaps) >= limit or (budget < 0 and snaps):
                next_start = snap.second
                break
            snaps.append(snap)
        trades = (
            self.reader.trades(symbol, snaps[0].second, snaps[-1].second)
            if with_trades and snaps
            else {}
        )
        return {
            "symbol": symbol,
            "start": start,
            "end": end,
            "count": len(snaps),
            "next_start": next_start,
            "snapshots": [
                snapshot_json(snap, levels, trades.get(snap.second) if with_trades else None)
                for snap in snaps
            ],
        }

    def coverage(self, params: Params, _: dict[str, Any]) -> Any:
        """The fraction of seconds of ``start..end`` (inclusive) stored, and the missing ranges."""
        check_known(params, {"symbol", "start", "end", "duration_hours"})
        symbol = analytics.check_symbol(params.get("symbol"))
        if params.get("start") is None:
            hours = analytics.check_hours(params.get("duration_hours"), "duration_hours", 1, 192, 1)
            end = self._end(params) - 1
            start = end - hours * 3600 + 1
        else:
            if params.get("duration_hours") is not None:
                raise ParameterError("duration_hours", "give either start/end or duration_hours")
            start, end = self._range(params)
        if end - start + 1 > MAX_COVERAGE_SECONDS:
            raise ParameterError("start", f"range longer than {MAX_COVERAGE_SECONDS} seconds")
        self.reader.refresh()
        stored, ranges, missing = self.reader.missing_ranges(symbol, start, end, MAX_MISSING_RANGES)
        expected = end - start + 1
        return {
            "symbol": symbol,
            "start": start,
            "end": end,
            "expected_seconds": expected,
            "stored_seconds": stored,
            "fraction": round(stored / expected, 6),
            "missing_seconds": expected - stored,
            "missing_range_count": ranges,
            "missing": [
                {"start": a, "end": b, "seconds": b - a + 1, "from": format_time(a)}
                for a, b in missing
            ],
            "missing_truncated": ranges > len(missing),
        }

    def status(self, params: Params, context: dict[str, Any]) -> Any:
        """Per-symbol stream health and storage state, plus the writer's own status record."""
        check_known(params, set())
        now = int(self.clock.now())
        live: dict[str, dict[str, Any]] = context.get("live", {})
        result: dict[str, Any] = {
            "now": now,
            "database": {"path": str(self.reader.db_path), "open": False, "size_bytes": 0},
            "writer": None,
            "symbols": {},
            "live_invalid_messages": context.get("invalid", 0),
        }
        stored_symbols: list[str] = []
        try:
            self.reader.refresh()
        except Exception as exc:  # status must answer even when the database is not there
            result["database"]["error"] = str(exc)
        else:
            result["database"].update(open=True, size_bytes=self.reader.size_bytes())
            stored_symbols = self.reader.symbols()
            try:
                result["writer"] = _json_safe(self.reader.writer_status())
            except Exception as exc:
                result["writer"] = {"error": str(exc)}
        writer_symbols = (result["writer"] or {}).get("symbols") or {}
        for symbol in sorted({*stored_symbols, *live}):
            entry: dict[str, Any] = {
                "publishing": bool(live.get(symbol, {}).get("publishing")),
                "live": live.get(symbol),  # the collector's stream as this process sees it
                "writer": writer_symbols.get(symbol),  # the writer's counters (gaps, backfill)
            }
            if self.reader.is_open:
                last = self.reader.last_second(symbol)
                entry.update(
                    last_stored_second=last,
                    last_stored_age_s=None if last is None else now - 1 - last,
                    stored_last_minute=self.reader.count(symbol, now - 60, now - 1),
                    stored_last_hour=self.reader.count(symbol, now - 3600, now - 1),
                )
            result["symbols"][symbol] = entry
        return result

    def _range(self, params: Params) -> tuple[int, int]:
        """Inclusive ``start``/``end`` (unix seconds or ISO-8601); end defaults to now."""
        if params.get("start") is None:
            raise ParameterError("start", "required (unix seconds or ISO-8601)")
        try:
            start = parse_time(params["start"])
        except ValueError as exc:
            raise ParameterError("start", str(exc)) from exc
        if params.get("end") is None:
            end = int(self.clock.now()) - 1
        else:
            try:
                end = parse_time(params["end"])
            except ValueError as exc:
                raise ParameterError("end", str(exc)) from exc
        if end < start:
            raise ParameterError("end", f"{format_time(end)} is before start {format_time(start)}")
        return start, end


def check_known(params: Params, allowed: set[str]) -> None:
    """Reject parameters the method does not take, so a typo is not silently ignored."""
    unknown = sorted(set(params) - allowed)
    if unknown:
        expected = ", ".join(sorted(allowed)) or "none"
        raise ParameterError(str(unknown[0])[:40], f"unknown parameter (expected: {expected})")


def _flatten(per_second: dict[int, tuple[Trade, ...]]) -> list[Trade]:
    return [trade for second in sorted(per_second) for trade in per_second[second]]


def _json_safe(value: Any) -> Any:
    """msgpack maps may carry bytes or int keys; JSON needs str keys and text."""
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
