"""Settings shared between processes, their environment variables, and value validators.

Every option has a CLI flag and a ``BOOKSNAP_*`` environment variable (honcho reads ``.env``),
resolved in the order CLI → environment → default. A fact two processes must agree on (an
endpoint, the data directory) has exactly one variable name, defined here. Each process keeps its
own frozen config dataclass in its package, built from these validators, so an invalid value
stops the process at once with a message that names the option.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from shared.errors import ConfigError
from shared.log import DEFAULT_LOG_LEVEL, LEVELS
from shared.model import validate_symbol

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_SYMBOLS = ("BTCUSDT", "ETHUSDT")
DEFAULT_DATA_DIR = "./data"
DEFAULT_REST_URL = "https://api.binance.com"
DEFAULT_WS_URL = "wss://stream.binance.com:9443"

# ZeroMQ endpoints. The stable side binds, the transient side connects.
DEFAULT_INGEST_ENDPOINT = "tcp://127.0.0.1:5555"  # writer binds SUB, collectors connect PUB
DEFAULT_BACKFILL_ENDPOINT = "tcp://127.0.0.1:5556"  # writer binds ROUTER, collectors DEALER
DEFAULT_LIVE_ENDPOINT = "tcp://127.0.0.1:5557"  # query binds SUB, collectors connect PUB
DEFAULT_QUERY_ENDPOINT = "tcp://127.0.0.1:5558"  # query binds ROUTER, clients connect
DEFAULT_FEED_ENDPOINT = "tcp://127.0.0.1:5559"  # query binds PUB: every stream, for programs

DEFAULT_SIM_HOST = "127.0.0.1"
DEFAULT_SIM_PORT = 9100

ENV_SYMBOLS = "BOOKSNAP_SYMBOLS"
ENV_DATA_DIR = "BOOKSNAP_DATA_DIR"
ENV_REST_URL = "BOOKSNAP_REST_URL"
ENV_WS_URL = "BOOKSNAP_WS_URL"
ENV_INGEST_ENDPOINT = "BOOKSNAP_INGEST_ENDPOINT"
ENV_BACKFILL_ENDPOINT = "BOOKSNAP_BACKFILL_ENDPOINT"
ENV_LIVE_ENDPOINT = "BOOKSNAP_LIVE_ENDPOINT"
ENV_QUERY_ENDPOINT = "BOOKSNAP_QUERY_ENDPOINT"
ENV_FEED_ENDPOINT = "BOOKSNAP_FEED_ENDPOINT"
ENV_LOG_LEVEL = "BOOKSNAP_LOG_LEVEL"
ENV_QUERY_WORKERS = "BOOKSNAP_QUERY_WORKERS"
ENV_REQUEST_DEADLINE = "BOOKSNAP_REQUEST_DEADLINE"
ENV_INSECURE = "BOOKSNAP_INSECURE"  # plain sockets on non-loopback addresses: a conscious choice
ENV_KEYS_DIR = "BOOKSNAP_KEYS_DIR"  # CURVE keys (booksnap keys init); unset = no CURVE
# Prometheus exporters (shared/metrics.py): off unless a port is set. The port is a base: each
# process adds its offset (writer +0, query +1, collector supervisor +2), --metrics-port overrides.
ENV_METRICS_PORT = "BOOKSNAP_METRICS_PORT"
ENV_METRICS_HOST = "BOOKSNAP_METRICS_HOST"  # loopback unless BOOKSNAP_METRICS_PUBLIC is set
ENV_METRICS_PUBLIC = "BOOKSNAP_METRICS_PUBLIC"  # allow a metrics address other hosts can reach

# Checked with fullmatch (a "$" would let a trailing "\n" through) and ASCII-only classes (a
# str pattern's \d and \S also match other scripts' digits and spaces).

# Process options (the shared ones are above): every BOOKSNAP_* name is defined here, once.
# collector
ENV_LEVELS = "BOOKSNAP_LEVELS"
ENV_LIVE_LEVELS = "BOOKSNAP_LIVE_LEVELS"
ENV_LIVE_INTERVAL = "BOOKSNAP_LIVE_INTERVAL"
ENV_COLLECTOR_CHILDREN = "BOOKSNAP_COLLECTOR_CHILDREN"
ENV_SNAPSHOT_DEPTH = "BOOKSNAP_SNAPSHOT_DEPTH"
ENV_WATCHDOG = "BOOKSNAP_WATCHDOG_SECONDS"
ENV_MAX_CONNECTION_AGE = "BOOKSNAP_MAX_CONNECTION_AGE"
ENV_TRADE_GRACE = "BOOKSNAP_TRADE_GRACE"
ENV_PING_AFTER = "BOOKSNAP_PING_AFTER"
ENV_PONG_TIMEOUT = "BOOKSNAP_PONG_TIMEOUT"
ENV_BUFFER_SECONDS = "BOOKSNAP_BUFFER_SECONDS"
ENV_SUMMARY_INTERVAL = "BOOKSNAP_SUMMARY_INTERVAL"
ENV_REST_WEIGHT_BUDGET = "BOOKSNAP_REST_WEIGHT_BUDGET"
ENV_SELFCHECK_EVERY = "BOOKSNAP_SELFCHECK_EVERY"
ENV_SELFCHECK_WINDOW = "BOOKSNAP_SELFCHECK_WINDOW"
ENV_REST_BUDGET_FILE = "BOOKSNAP_REST_BUDGET_FILE"
ENV_RECONNECT_MAX = "BOOKSNAP_RECONNECT_MAX"
ENV_RESTART_MAX = "BOOKSNAP_RESTART_MAX"
# writer
ENV_RETENTION = "BOOKSNAP_RETENTION"
ENV_RETENTION_DAYS = "BOOKSNAP_RETENTION_DAYS"
ENV_RETENTION_INTERVAL = "BOOKSNAP_RETENTION_INTERVAL"
ENV_PENDING_CAPACITY = "BOOKSNAP_PENDING_CAPACITY"
# simulator
ENV_SIM_PORT = "BOOKSNAP_SIM_PORT"
ENV_SIM_HOST = "BOOKSNAP_SIM_HOST"
ENV_SIM_SYMBOLS = "BOOKSNAP_SIM_SYMBOLS"
ENV_SIM_SOURCE = "BOOKSNAP_SIM_SOURCE"
ENV_SIM_SPEED = "BOOKSNAP_SIM_SPEED"
ENV_SIM_SEED = "BOOKSNAP_SIM_SEED"
ENV_SIM_ZIPF = "BOOKSNAP_SIM_ZIPF"
ENV_SIM_RECORDINGS = "BOOKSNAP_SIM_RECORDINGS"
ENV_SIM_MAX_CONNECTION_SECONDS = "BOOKSNAP_SIM_MAX_CONNECTION_SECONDS"
ENV_SIM_PING_INTERVAL = "BOOKSNAP_SIM_PING_INTERVAL"
ENV_SIM_PONG_TIMEOUT = "BOOKSNAP_SIM_PONG_TIMEOUT"
ENV_SIM_WEIGHT_LIMIT = "BOOKSNAP_SIM_WEIGHT_LIMIT"
ENV_SIM_BAN_SECONDS = "BOOKSNAP_SIM_BAN_SECONDS"
ENV_SIM_MESSAGE_LIMIT = "BOOKSNAP_SIM_MESSAGE_LIMIT"
ENV_SIM_SUMMARY_INTERVAL = "BOOKSNAP_SIM_SUMMARY_INTERVAL"
ENV_SIM_FAULTS = "BOOKSNAP_SIM_FAULTS"
# query
ENV_SECONDARY_DIR = "BOOKSNAP_SECONDARY_DIR"
# booksnap mcp
ENV_MCP_TIMEOUT = "BOOKSNAP_MCP_TIMEOUT"
ENV_MCP_HTTP = "BOOKSNAP_MCP_HTTP"

_ENDPOINT = re.compile(
    r"tcp://[A-Za-z0-9.\-\[\]:*]+:[0-9]{1,5}|ipc://[!-~]+|inproc://[!-~]+", re.ASCII
)
_HTTP_URL = re.compile(r"https?://[A-Za-z0-9.\-\[\]]+(:[0-9]{1,5})?/?", re.ASCII)
_WS_URL = re.compile(r"wss?://[A-Za-z0-9.\-\[\]]+(:[0-9]{1,5})?/?", re.ASCII)


def parse_symbols(option: str, text: str | tuple[str, ...]) -> tuple[str, ...]:
    """``"btcusdt, ETHUSDT"`` → ``("BTCUSDT", "ETHUSDT")``; ConfigError names the option."""
    items = text.split(",") if isinstance(text, str) else list(text)
    symbols: list[str] = []
    for item in items:
        if not item.strip():
            continue
        try:
            symbol = validate_symbol(item)
        except ValueError as exc:
            raise ConfigError(option, str(exc)) from exc
        if symbol not in symbols:
            symbols.append(symbol)
    if not symbols:
        raise ConfigError(option, "at least one symbol is needed, e.g. BTCUSDT,ETHUSDT")
    return tuple(symbols)


def check_symbol(option: str, text: str) -> str:
    try:
        return validate_symbol(text)
    except ValueError as exc:
        raise ConfigError(option, str(exc)) from exc


def check_endpoint(option: str, endpoint: str) -> str:
    if not _ENDPOINT.fullmatch(endpoint):
        raise ConfigError(
            option, f"{endpoint!r} is not a ZeroMQ endpoint like tcp://127.0.0.1:5555"
        )
    return endpoint


def check_http_url(option: str, url: str) -> str:
    if not _HTTP_URL.fullmatch(url):
        raise ConfigError(option, f"{url!r} is not a base URL like https://api.binance.com")
    return url.rstrip("/")


def check_ws_url(option: str, url: str) -> str:
    if not _WS_URL.fullmatch(url):
        raise ConfigError(option, f"{url!r} is not a base URL like wss://stream.binance.com:9443")
    return url.rstrip("/")


def check_range(option: str, value: float, low: float, high: float) -> float:
    if not low <= value <= high:
        raise ConfigError(option, f"{value} is outside {low}..{high}")
    return value


class FiniteRange(click.FloatRange):
    """``click.FloatRange`` that also refuses ``nan`` (every comparison with it is false, so the
    plain range lets it through) as a usage error."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def check_int_range(option: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise ConfigError(option, f"{value} is outside {low}..{high}")
    return value


def check_dir(option: str, path: str | Path) -> Path:
    """A folder option: it may not exist yet, but it is not a file, and the system takes its name
    (not too long, no NUL byte: refused here rather than as an OSError later)."""
    resolved = check_path(option, path)
    if resolved.exists() and not resolved.is_dir():
        raise ConfigError(option, f"{shown_path(resolved)} exists and is not a directory")
    return resolved


def check_path(option: str, path: str | Path) -> Path:
    """A file or folder option whose name the system can use (it need not exist)."""
    resolved = Path(path).expanduser()
    try:
        resolved.exists()
    except (OSError, ValueError) as exc:  # ENAMETOOLONG, a NUL byte, a path through a file
        raise ConfigError(option, f"{shown_path(resolved)}: {os_reason(exc)}") from None
    return resolved


def os_reason(exc: BaseException) -> str:
    """Why the system refused a path, for a message: its strerror, else its text, else its type."""
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def shown_path(path: Path, most: int = 120) -> str:
    """A path for a message, bounded (it comes from a command line or the environment)."""
    text = str(path)
    return text if len(text) <= most else f"{text[: most - 1]}…"


def check_log_level(option: str, level: str) -> str:
    upper = level.upper()
    if upper not in LEVELS:
        raise ConfigError(option, f"{level!r} is not one of DEBUG, INFO, WARNING, ERROR")
    return upper


def log_level_option(function: F) -> F:
    """``--log-level`` (``BOOKSNAP_LOG_LEVEL``), the same option in every process."""
    return click.option(
        "--log-level",
        envvar=ENV_LOG_LEVEL,
        default=DEFAULT_LOG_LEVEL,
        show_default=True,
        help=f"One of {', '.join(LEVELS)}.",
    )(function)


def field_default(config_class: type, name: str) -> Any:
    """The default of a config dataclass field, so a click option never repeats it."""
    for item in dataclasses.fields(config_class):
        if item.name == name:
            return item.default
    raise AttributeError(f"{config_class.__name__} has no field {name!r}")


def symbols_option(help_text: str) -> Callable[[F], F]:
    """``--symbols`` (``BOOKSNAP_SYMBOLS``): the one list of symbols every process agrees on."""
    return click.option(
        "--symbols",
        envvar=ENV_SYMBOLS,
        default=",".join(DEFAULT_SYMBOLS),
        show_default=True,
        help=help_text,
    )
