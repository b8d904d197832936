"""The collector's settings: frozen dataclasses, validated on construction (ConfigError)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import (
    DEFAULT_BACKFILL_ENDPOINT,
    DEFAULT_INGEST_ENDPOINT,
    DEFAULT_LIVE_ENDPOINT,
    DEFAULT_LOG_LEVEL,
    DEFAULT_REST_URL,
    DEFAULT_SYMBOLS,
    DEFAULT_WS_URL,
    check_endpoint,
    check_http_url,
    check_int_range,
    check_log_level,
    check_path,
    check_range,
    check_symbol,
    check_ws_url,
    parse_symbols,
)

# Binance's /api/v3/depth weight by limit (Spot API docs, "Order book").
_DEPTH_WEIGHTS = ((100, 5), (500, 25), (1000, 50), (5000, 250))


def depth_weight(limit: int) -> int:
    """The request weight Binance charges for a depth snapshot of ``limit`` levels."""
    for top, weight in _DEPTH_WEIGHTS:
        if limit <= top:
            return weight
    return _DEPTH_WEIGHTS[-1][1]


@dataclass(frozen=True)
class CollectorConfig:
    """Everything one symbol's collector process needs."""

    symbol: str
    rest_url: str = DEFAULT_REST_URL
    ws_url: str = DEFAULT_WS_URL
    ingest_endpoint: str = DEFAULT_INGEST_ENDPOINT
    live_endpoint: str = DEFAULT_LIVE_ENDPOINT
    backfill_endpoint: str = DEFAULT_BACKFILL_ENDPOINT
    levels: int = 20  # levels per side in a once-a-second record
    live_levels: int = 100  # levels per side on book.<SYM>
    # s between live books, at most: sending 100 levels a side 10 times a second cost ~0.1 % of
    # a core per symbol (as much as the rest of the collector at the synthetic load); a live
    # book is sent only when the book changed, at most once this often.
    live_interval: float = 1.0
    snapshot_depth: int = 1000  # REST depth limit at most (the first is 100: collector/depth.py)
    watchdog_seconds: float = 10.0  # a connected socket silent this long is replaced
    max_connection_age: float = 23 * 3600 + 50 * 60  # replace before Binance's 24 h cut
    reconnect_min: float = 0.5  # s, first reconnect delay
    reconnect_max: float = 30.0  # s, cap of the exponential backoff
    handover_timeout: float = 10.0  # s a new connection may take to catch up with the old one
    trade_grace: float = 0.25  # s after a second's end before its record is sent
    ping_after: float = 0.1  # s after a second's end: its closing batch is due, vouch for it
    pong_timeout: float = 1.0  # s a second may wait for its vouching before it gets no record
    selfcheck_every: float = 600.0  # s between bookTicker self-check windows (0: off)
    selfcheck_window: float = 10.0  # s each window lasts
    buffer_seconds: int = 900  # records kept for backfill
    hello_interval: float = 2.0  # s between backfill hellos
    summary_interval: float = 60.0  # s between summary log lines
    rest_timeout: float = 5.0  # s per REST request
    rest_weight_budget: int = 4800  # per minute for the whole host (Binance allows 6000 per IP)
    rest_budget_file: str = ""  # the host's shared bucket; "" = the default for the REST host
    keys_dir: str | None = None  # CURVE keys (shared/security.py); None: plain sockets
    event_buffer: int = 5000  # depth events buffered while waiting for a snapshot
    send_hwm: int = 10_000  # PUB/DEALER high-water mark, messages
    log_level: str = DEFAULT_LOG_LEVEL

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbol", check_symbol("--symbol", self.symbol))
        object.__setattr__(self, "rest_url", check_http_url("--rest-url", self.rest_url))
        object.__setattr__(self, "ws_url", check_ws_url("--ws-url", self.ws_url))
        check_endpoint("--ingest-endpoint", self.ingest_endpoint)
        check_endpoint("--live-endpoint", self.live_endpoint)
        check_endpoint("--backfill-endpoint", self.backfill_endpoint)
        check_int_range("--levels", self.levels, 1, 5000)
        check_int_range("--live-levels", self.live_levels, 1, 5000)
        check_range("--live-interval", self.live_interval, 0.01, 60.0)
        check_int_range("--snapshot-depth", self.snapshot_depth, 5, 5000)
        check_range("--watchdog-seconds", self.watchdog_seconds, 0.5, 3600.0)
        check_range("--max-connection-age", self.max_connection_age, 1.0, 24 * 3600.0)
        check_range("--reconnect-min", self.reconnect_min, 0.01, 60.0)
        check_range("--reconnect-max", self.reconnect_max, self.reconnect_min, 3600.0)
        check_range("--handover-timeout", self.handover_timeout, 0.5, 600.0)
        check_range("--trade-grace", self.trade_grace, 0.0, 0.9)
        check_range("--ping-after", self.ping_after, 0.0, 0.9)
        check_range("--pong-timeout", self.pong_timeout, 0.05, 30.0)
        check_range("--selfcheck-every", self.selfcheck_every, 0.0, 7 * 86_400.0)
        check_range("--selfcheck-window", self.selfcheck_window, 0.0, 7 * 86_400.0)
        check_int_range("--buffer-seconds", self.buffer_seconds, 1, 24 * 3600)
        check_range("--hello-interval", self.hello_interval, 0.1, 60.0)
        check_range("--summary-interval", self.summary_interval, 1.0, 3600.0)
        check_range("--rest-timeout", self.rest_timeout, 0.1, 60.0)
        check_int_range("--rest-weight-budget", self.rest_weight_budget, 1, 6000)
        if self.rest_budget_file:
            check_path("--rest-budget-file", self.rest_budget_file)
        check_int_range("--event-buffer", self.event_buffer, 10, 1_000_000)
        check_int_range("--send-hwm", self.send_hwm, 0, 10_000_000)
        object.__setattr__(self, "log_level", check_log_level("--log-level", self.log_level))

    @property
    def stream_url(self) -> str:
        """The combined-stream URL: diff depth every 100 ms plus aggregate trades."""
        lower = self.symbol.lower()
        return f"{self.ws_url}/stream?streams={lower}@depth@100ms/{lower}@aggTrade"

    @property
    def ticker_stream(self) -> str:
        return f"{self.symbol.lower()}@bookTicker"

    @property
    def depth_url(self) -> str:
        """The depth request without its limit (the fetcher adds the one it needs)."""
        return f"{self.rest_url}/api/v3/depth?symbol={self.symbol}"


@dataclass(frozen=True)
class SupervisorConfig:
    """The supervisor: which symbols to run and how to restart a child that dies."""

    symbols: tuple[str, ...] = DEFAULT_SYMBOLS
    restart_min: float = 0.5  # s before the first restart of a child
    restart_max: float = 30.0  # s, cap of the restart backoff
    stable_after: float = 30.0  # s a child must live for its backoff to reset
    stop_timeout: float = 4.0  # s children get after SIGTERM before SIGKILL

    def __post_init__(self) -> None:
        object.__setattr__(self, "symbols", parse_symbols("--symbols", self.symbols))
        check_range("--restart-min", self.restart_min, 0.01, 60.0)
        check_range("--restart-max", self.restart_max, self.restart_min, 3600.0)
        check_range("--stable-after", self.stable_after, 0.1, 3600.0)
        check_range("--stop-timeout", self.stop_timeout, 0.1, 4.5)
