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
from query.arguments import Params, parse
from query.reader import SecondaryReader
from query.snapshots import snapshot_json
from query.volume_reader import volume_columns
from shared.clock import Clock
from shared.methods import BY_NAME, METHODS
from shared.model import BookSnapshot, Trade
from shared.times import format_time

MAX_REPLY_LEVELS = 120_000  # book levels per query_snapshots reply (~3.5 MB of JSON)
MAX_COVERAGE_SECONDS = 8 * 86_400  # a week of retention plus slack; keys only, ~0.5 s
MAX_MISSING_RANGES = 1000


class DbHandlers:
    """The methods answered from the database, in the database worker process."""

    def __init__(self, reader: SecondaryReader, clock: Clock) -> None:
        self.reader = reader
        self.clock = clock
        # One handler per database method of shared/methods.py, named after it.
        self.methods: dict[str, Callable[[Params, dict[str, Any]], Any]] = {
            method.name: getattr(self, method.name) for method in METHODS if method.source == "db"
        }

    def get_order_flow(self, params: Params, _: dict[str, Any]) -> Any:
        symbol, start, end = self._window("get_order_flow", params)
        snaps, trades = self._load(analytics.FLOW_HISTORY, symbol, start, end)
        return analytics.get_order_flow(
            snaps, trades, symbol=symbol, window_start=start, window_end=end
        )

    def get_microstructure_health(self, params: Params, _: dict[str, Any]) -> Any:
        symbol, start, end = self._window("get_microstructure_health", params)
        snaps, trades = self._load(analytics.HEALTH_HISTORY, symbol, start, end)
        return analytics.get_microstructure_health(
            snaps, trades, symbol=symbol, window_start=start, window_end=end
        )

    def detect_market_anomalies(self, params: Params, _: dict[str, Any]) -> Any:
        symbol, start, end = self._window("detect_market_anomalies", params)
        snaps, trades = self._load(analytics.ANOMALIES_HISTORY, symbol, start, end)
        return analytics.detect_market_anomalies(
            snaps, trades, symbol=symbol, window_start=start, window_end=end
        )

    def get_market_quality(self, params: Params, _: dict[str, Any]) -> Any:
        symbol, start, end = self._window("get_market_quality", params)
        snaps, trades = self._load(analytics.QUALITY_HISTORY, symbol, start, end)
        return analytics.get_market_quality(
            snaps, trades, symbol=symbol, window_start=start, window_end=end
        )

    def get_volume_profile(self, params: Params, _: dict[str, Any]) -> Any:
        args = parse(BY_NAME["get_volume_profile"], params)
        symbol, tick_size = args["symbol"], args["tick_size"]
        end = self._end(args["end"])
        start = end - args["duration_hours"] * 3600
        self.reader.refresh()
        # The writer's per-minute/per-hour aggregates plus raw trades at the edges: exactly the
        # rows ``rows_from_trades`` gives over the window's trades, merged as numpy columns.
        columns = volume_columns(self.reader, symbol, start, end - 1).merged()
        # No instrument tick is stored: the profile derives it from the prices (derived_tick).
        return analytics.get_volume_profile_columns(
            columns, symbol=symbol, start=start, end=end, tick_size=tick_size, symbol_tick=None
        )

    def get_liquidity_vacuums(self, params: Params, _: dict[str, Any]) -> Any:
        args = parse(BY_NAME["get_liquidity_vacuums"], params)
        symbol, hours, threshold = args["symbol"], args["duration_hours"], args["threshold"]
        end = self._end(args["end"])
        start = end - hours * 3600
        self.reader.refresh()
        snaps = self.reader.snapshots(symbol, start, end - 1, hours * 3600)
        return analytics.get_liquidity_vacuums(
            snaps, symbol=symbol, start=start, end=end, threshold=threshold
        )

    def _window(self, method: str, params: Params) -> tuple[str, int, int]:
        args = parse(BY_NAME[method], params)
        end = self._end(args["end"])
        return args["symbol"], end - args["window_duration_secs"], end

    def _end(self, end: int | None) -> int:
        """The exclusive end of a window: ``end`` or now (floored); never in the future."""
        now = int(self.clock.now())
        if end is None:
            return now
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
        args = parse(BY_NAME["query_snapshots"], params)
        symbol, limit, levels = args["symbol"], args["limit"], args["levels"]
        with_trades = args["trades"]
        start, end = self._range(args["start"], args["end"])
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
        args = parse(BY_NAME["coverage"], params)
        symbol = args["symbol"]
        if args["start"] is None:
            end = self._end(args["end"]) - 1
            start = end - args["duration_hours"] * 3600 + 1
        else:
            if params.get("duration_hours") is not None:
                raise ParameterError("duration_hours", "give either start/end or duration_hours")
            start, end = self._range(args["start"], args["end"])
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
        parse(BY_NAME["status"], params)
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

    def _range(self, start: int, end: int | None) -> tuple[int, int]:
        """Inclusive ``start``/``end``; end defaults to the last complete second."""
        if end is None:
            end = int(self.clock.now()) - 1
        if end < start:
            raise ParameterError("end", f"{format_time(end)} is before start {format_time(start)}")
        return start, end


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
