"""Prometheus metrics: every metric's name, labels and help text, and the HTTP exporter.

Each long-running process serves its own ``/metrics`` (prometheus-client) when a port is set:
``--metrics-port`` or the base port ``BOOKSNAP_METRICS_PORT`` plus the process's offset (writer
+0, query +1, collector supervisor +2), so one environment (honcho's ``.env``) gives every
process its own port. Unset, nothing listens and nothing is counted. The address is loopback
unless ``--metrics-public`` (``BOOKSNAP_METRICS_PUBLIC``) allows one other hosts can reach: the
exporter has no authentication (same rule as ``shared.curve.decide_security``).

Names follow Prometheus conventions (base units: seconds, bytes; counters end in ``_total``,
which prometheus-client appends). A ``symbol`` label only ever takes a configured symbol, never a
value from the wire, so the number of series is bounded by the configuration.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, TypeVar
from wsgiref.simple_server import WSGIServer

import click
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from shared.config import ENV_METRICS_HOST, ENV_METRICS_PORT, ENV_METRICS_PUBLIC
from shared.errors import ConfigError

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_METRICS_HOST = "127.0.0.1"
PORT_OFFSETS = {"writer": 0, "query": 1, "collector": 2}  # added to BOOKSNAP_METRICS_PORT
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's own name (collector children)
OTHER = "other"  # the label value of anything outside a bounded set


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric: its exposed name (counters without ``_total``), help and label names."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()


LAG_BUCKETS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)
FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
SYMBOL = ("symbol",)

# --- writer -------------------------------------------------------------------------------------
STORED_SECONDS = Metric(
    "booksnap_stored_seconds", "Symbol-seconds made durable (one per Stored line).", SYMBOL
)
LAST_STORED_SECOND = Metric(
    "booksnap_last_stored_second", "Newest unix second stored for the symbol.", SYMBOL
)
BACKFILLED_SECONDS = Metric(
    "booksnap_backfilled_seconds", "Seconds stored from a collector's buffer.", SYMBOL
)
MISSED_SECONDS = Metric(
    "booksnap_missed_seconds", "Seconds found missing (then fetched back if possible).", SYMBOL
)
LOST_SECONDS = Metric(
    "booksnap_lost_seconds", "Missing seconds no collector buffer could give back.", SYMBOL
)
DURABLE_LAG = Metric(
    "booksnap_durable_lag_seconds",
    "From the end of a live second to its WAL-synced write (backfilled seconds excluded).",
    SYMBOL,
    LAG_BUCKETS,
)
WRITER_QUEUE = Metric("booksnap_writer_queue_records", "Records waiting to be written.")
WRITER_QUEUE_CAPACITY = Metric(
    "booksnap_writer_queue_capacity_records", "Records the pending queue holds before dropping."
)
WRITER_BATCH = Metric(
    "booksnap_writer_batch_seconds", "Time of one WAL-synced batch write.", (), FAST_BUCKETS
)
WRITER_REJECTED = Metric(
    "booksnap_writer_rejected_messages", "Messages rejected before storage, by cause.", ("cause",)
)
WRITER_WRITE_ERRORS = Metric("booksnap_writer_write_errors", "Failed database writes.")
WRITER_DROPPED = Metric(
    "booksnap_writer_dropped_records", "Records pushed out of the full pending queue."
)
WRITER_STORE_UP = Metric("booksnap_writer_store_up", "1 while the database handle is open.")
ROCKSDB_SST_BYTES = Metric(
    "booksnap_rocksdb_sst_files_bytes", "rocksdb.total-sst-files-size over the column families."
)
ROCKSDB_COMPACTION_BYTES = Metric(
    "booksnap_rocksdb_pending_compaction_bytes",
    "rocksdb.estimate-pending-compaction-bytes over the column families.",
)
ROCKSDB_MEMORY = Metric(
    "booksnap_rocksdb_memory_bytes",
    "The writer's RocksDB memory: cache (block cache with the memtables' charge, bounded by "
    "shared.storage.WRITER_MEMORY), memtables, table_readers (outside the cache).",
    ("part",),
)
DISK_SIZE = Metric("booksnap_data_disk_size_bytes", "Size of the data directory's filesystem.")
DISK_FREE = Metric(
    "booksnap_data_disk_available_bytes", "Bytes the writer may still use on that filesystem."
)

# --- collector ----------------------------------------------------------------------------------
RESYNCS = Metric(
    "booksnap_collector_resyncs",
    "Times the book was invalidated and resynced.",
    (*SYMBOL, "reason"),
)
RECONNECTS = Metric("booksnap_collector_reconnects", "WebSocket reconnects scheduled.", SYMBOL)
PUBLISHED = Metric("booksnap_collector_published_seconds", "Records published.", SYMBOL)
BOOK_LEVELS = Metric(
    "booksnap_collector_book_levels", "Levels held in the local book.", (*SYMBOL, "side")
)
SYNCED = Metric("booksnap_collector_book_synced", "1 while the local book is in sync.", SYMBOL)
SELFCHECKS = Metric(
    "booksnap_collector_selfchecks",
    "Self-check comparisons of the book with Binance's bookTicker (at equal update ids).",
    SYMBOL,
)
SELFCHECK_MISMATCHES = Metric(
    "booksnap_collector_selfcheck_mismatches",
    "Self-check comparisons where the book differed (each forced a resync).",
    SYMBOL,
)
CHILD_RESTARTS = Metric(
    "booksnap_collector_child_restarts", "Collector processes restarted by the supervisor.", SYMBOL
)
CHILD_UP = Metric("booksnap_collector_child_up", "1 while the symbol's process runs.", SYMBOL)

# --- query --------------------------------------------------------------------------------------
QUERY_REQUESTS = Metric(
    "booksnap_query_requests", "Requests answered, by method and outcome.", ("method", "outcome")
)
QUERY_LATENCY = Metric(
    "booksnap_query_request_seconds",
    "From receiving a request to sending its reply.",
    ("method",),
    FAST_BUCKETS,
)
QUERY_IN_FLIGHT = Metric("booksnap_query_db_requests_in_flight", "Database requests in progress.")
QUERY_WORKER_RESTARTS = Metric("booksnap_query_worker_restarts", "Database workers restarted.")
LIVE_BOOK_AGE = Metric(
    "booksnap_live_book_age_seconds", "Age of the latest live book the query process holds.", SYMBOL
)


def counter(spec: Metric, registry: CollectorRegistry | None) -> Counter:
    return Counter(spec.name, spec.help, spec.labels, registry=registry)


def gauge(spec: Metric, registry: CollectorRegistry | None, mode: str = "all") -> Gauge:
    return Gauge(spec.name, spec.help, spec.labels, registry=registry, multiprocess_mode=mode)  # type: ignore[arg-type]


def histogram(spec: Metric, registry: CollectorRegistry | None) -> Histogram:
    return Histogram(spec.name, spec.help, spec.labels, registry=registry, buckets=spec.buckets)


def counter_family(spec: Metric) -> CounterMetricFamily:
    """For a custom collector that reads a process's own counters at scrape time."""
    return CounterMetricFamily(spec.name, spec.help, labels=spec.labels or None)


def gauge_family(spec: Metric) -> GaugeMetricFamily:
    return GaugeMetricFamily(spec.name, spec.help, labels=spec.labels or None)


def bounded(value: str, allowed: Collection[str]) -> str:
    """``value`` if it is one of ``allowed``, else ``"other"``: a label never grows unbounded."""
    return value if value in allowed else OTHER


def new_registry() -> CollectorRegistry:
    """A process's registry: its own metrics plus ``process_*`` (CPU, memory, open files)."""
    disable_created_metrics()  # the *_created series: noise for a scrape every few seconds
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    return registry


# --- the exporter -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """Where a process serves ``/metrics``; ``port`` None = off."""

    port: int | None = None
    host: str = DEFAULT_METRICS_HOST
    public: bool = False

    def __post_init__(self) -> None:
        if self.port is not None and not 1 <= self.port <= 65535:
            raise ConfigError("--metrics-port", f"{self.port} is outside 1..65535")
        if self.port is not None:
            check_metrics_host(self.host, public=self.public)

    @property
    def enabled(self) -> bool:
        return self.port is not None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a DNS or interface name: possibly reachable from other hosts


def check_metrics_host(host: str, *, public: bool) -> None:
    """ConfigError unless ``host`` is loopback or ``public`` was given explicitly."""
    if is_loopback(host) or public:
        return
    raise ConfigError(
        "--metrics-host",
        f"{host} can be reached from other hosts and the metrics endpoint has no authentication; "
        f"bind 127.0.0.1 (the default) behind a proxy, or pass --metrics-public "
        f"({ENV_METRICS_PUBLIC}=1) to serve it there anyway",
    )


def metrics_config(
    process: str, port: int | None, base: int | None, host: str, public: bool
) -> MetricsConfig:
    """CLI → env → default: ``--metrics-port``, else the base port plus the process's offset."""
    if port is None and base is not None:
        port = base + PORT_OFFSETS[process]
    return MetricsConfig(port=port, host=host, public=public)


def metrics_options(function: F) -> F:
    """``--metrics-port``, ``--metrics-host``, ``--metrics-public`` (+ the base port's env)."""
    function = click.option(
        "--metrics-public",
        envvar=ENV_METRICS_PUBLIC,
        is_flag=True,
        default=False,
        help="Allow a --metrics-host other hosts can reach (the endpoint has no authentication).",
    )(function)
    function = click.option(
        "--metrics-host",
        envvar=ENV_METRICS_HOST,
        default=DEFAULT_METRICS_HOST,
        show_default=True,
        help="Address of the Prometheus endpoint.",
    )(function)
    function = click.option(
        "--metrics-base-port",
        envvar=ENV_METRICS_PORT,
        type=click.IntRange(1, 65533),
        default=None,
        hidden=True,
    )(function)
    return click.option(
        "--metrics-port",
        type=click.IntRange(1, 65535),
        default=None,
        help=f"Serve Prometheus metrics on this port [default: off, or {ENV_METRICS_PORT} + "
        "0 writer / 1 query / 2 collector].",
    )(function)


class Exporter:
    """A running ``/metrics`` HTTP server (prometheus-client's, on a daemon thread)."""

    def __init__(self, server: WSGIServer, thread: threading.Thread, url: str) -> None:
        self._server = server
        self._thread = thread
        self.url = url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(1.0)


def start_exporter(config: MetricsConfig, registry: CollectorRegistry) -> Exporter | None:
    """Serve ``registry`` as configured (None when off); ConfigError if the port is taken."""
    if config.port is None:
        return None
    try:
        server, thread = start_http_server(config.port, addr=config.host, registry=registry)
    except OSError as exc:
        raise ConfigError(
            "--metrics-port", f"cannot serve on {config.host}:{config.port}: {exc}"
        ) from exc
    host = f"[{config.host}]" if ":" in config.host else config.host
    url = f"http://{host}:{config.port}/metrics"
    log.info("Prometheus metrics on %s", url)
    return Exporter(server, thread, url)
