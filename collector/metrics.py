"""The collectors' Prometheus metrics (names in shared/metrics.py).

Why prometheus-client's multiprocess mode and not one port per child or a report channel: a
collector is one OS process per symbol, and a port per symbol would make every deployment list
and firewall N ports that change with the symbol list. The supervisor already owns the children,
so it creates a private folder, hands it to them as ``PROMETHEUS_MULTIPROC_DIR``, and its one
exporter serves what they write there (``MultiProcessCollector``). Counters survive a child's
restart (the dead process's file is still summed), gauges of dead children are pruned at each
scrape. No socket or protocol of our own is needed, and a child counts with plain in-memory
writes (an mmap), never a syscall.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping

from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from collector.supervisor import Supervisor
from collector.sync import BookSync
from shared import metrics as m
from shared.config import ENV_METRICS_PORT

# Resync reasons are free text with numbers in it; the label takes one of these kinds.
_REASONS = (
    ("connection lost", "connection_lost"),
    ("sequence gap", "gap"),
    ("first event", "straddle"),
    ("crossed book", "crossed"),
    ("buffered events do not continue", "snapshot"),
)
_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w*?_(\d+)\.db")


def resync_reason(reason: str) -> str:
    """The bounded label value of a resync reason (``other`` for anything unforeseen)."""
    for prefix, kind in _REASONS:
        if reason.startswith(prefix):
            return kind
    return m.OTHER


class CollectorMetrics:
    """One symbol's counters and gauges, in a child (multiprocess files) or a lone collector."""

    def __init__(self, symbol: str, registry: CollectorRegistry | None = None) -> None:
        self._resyncs = m.counter(m.RESYNCS, registry)
        self._reconnects = m.counter(m.RECONNECTS, registry).labels(symbol)
        self._published = m.counter(m.PUBLISHED, registry).labels(symbol)
        levels = m.gauge(m.BOOK_LEVELS, registry, "livemostrecent")
        self._bids, self._asks = levels.labels(symbol, "bid"), levels.labels(symbol, "ask")
        self._synced = m.gauge(m.SYNCED, registry, "livemostrecent").labels(symbol)
        self._checks = m.counter(m.SELFCHECKS, registry).labels(symbol)
        self._mismatches = m.counter(m.SELFCHECK_MISMATCHES, registry).labels(symbol)
        self._checks_seen = self._mismatches_seen = 0
        self._symbol = symbol
        self._reconnects_seen = 0
        self._seq_seen = 0
        for _, kind in _REASONS:  # every series exists from the start (rate() needs a zero)
            self._resyncs.labels(symbol, kind)

    def resync(self, reason: str) -> None:
        self._resyncs.labels(self._symbol, resync_reason(reason)).inc()

    def tick(
        self, sync: BookSync, reconnects: int, seq: int, selfcheck: tuple[int, int] = (0, 0)
    ) -> None:
        """Once a second (at the boundary): book depth, sync state, new reconnects, records and
        self-check comparisons (``selfcheck``: checks, mismatches since the process began)."""
        checks, mismatches = selfcheck
        if checks > self._checks_seen:
            self._checks.inc(checks - self._checks_seen)
            self._checks_seen = checks
        if mismatches > self._mismatches_seen:
            self._mismatches.inc(mismatches - self._mismatches_seen)
            self._mismatches_seen = mismatches
        bids, asks = sync.book.depth() if sync.synced else (0, 0)
        self._bids.set(bids)
        self._asks.set(asks)
        self._synced.set(1 if sync.synced else 0)
        if reconnects > self._reconnects_seen:
            self._reconnects.inc(reconnects - self._reconnects_seen)
            self._reconnects_seen = reconnects
        if seq > self._seq_seen:
            self._published.inc(seq - self._seq_seen)
            self._seq_seen = seq


class SupervisorMetrics(Collector):
    """The supervisor's exporter: its children's files plus restarts and liveness."""

    def __init__(self, supervisor: Supervisor, registry: CollectorRegistry) -> None:
        self._supervisor = supervisor
        self.directory = tempfile.mkdtemp(prefix="booksnap-collector-metrics-")
        env = {k: v for k, v in os.environ.items() if k != ENV_METRICS_PORT}
        env[m.MULTIPROC_ENV] = self.directory
        self.child_env = env  # for the children: they count into the folder, export nothing
        multiprocess.MultiProcessCollector(registry, path=self.directory)
        registry.register(self)

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        # The supervisor's thread replaces ``popen`` at any time: read each one once.
        popens = {symbol: child.popen for symbol, child in self._supervisor.children.items()}
        self._prune({popen.pid for popen in popens.values() if popen is not None})
        restarts, up = m.counter_family(m.CHILD_RESTARTS), m.gauge_family(m.CHILD_UP)
        for symbol, child in sorted(self._supervisor.children.items()):
            restarts.add_metric([symbol], child.restarts)
            up.add_metric([symbol], 0 if popens[symbol] is None else 1)
        yield restarts
        yield up

    def _prune(self, live: set[int]) -> None:
        """Forget the gauges of children that are gone (their counters stay summed)."""
        for path in glob.glob(os.path.join(self.directory, "gauge_live*.db")):
            match = _LIVE_GAUGE_FILE.fullmatch(os.path.basename(path))
            if match is not None and int(match.group(1)) not in live:
                multiprocess.mark_process_dead(int(match.group(1)), self.directory)

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def child_metrics(symbol: str, env: Mapping[str, str]) -> CollectorMetrics | None:
    """In a supervised child: metrics into the supervisor's folder, or None when it has none."""
    return CollectorMetrics(symbol) if env.get(m.MULTIPROC_ENV) else None


def start_child_metrics(
    symbol: str, config: m.MetricsConfig, env: Mapping[str, str]
) -> tuple[CollectorMetrics | None, m.Exporter | None]:
    """A lone collector with its own port exports itself; a supervised one writes files."""
    if not config.enabled:
        return child_metrics(symbol, env), None
    registry = m.new_registry()
    metrics = CollectorMetrics(symbol, registry)
    return metrics, m.start_exporter(config, registry)
