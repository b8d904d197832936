"""The writer's Prometheus metrics (names in shared/metrics.py).

Counters the writer keeps anyway (``WriterStatus``, the backfill server) are read at scrape time
by a custom collector, so counting costs the hot path nothing. The lag histogram is observed once
per live record, at ingest rates: ``Histogram.observe`` (a lock, a loop over the buckets) measured
~2 µs a record, so the writer keeps plain per-bucket counts (``bisect``, ~0.4 µs) and exposes
them as a histogram at scrape time; the batch-time histogram is observed once per batch. RocksDB's
properties are sampled on the writer's own thread with the status record (every 2 s): the
handle may be dropped and reopened there, so the exporter's thread never touches it.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from shared import metrics as m
from writer.pending import Record
from writer.service import Writer

Family = CounterMetricFamily | GaugeMetricFamily
SST_SIZE = "rocksdb.total-sst-files-size"
PENDING_COMPACTION = "rocksdb.estimate-pending-compaction-bytes"


class WriterMetrics(Collector):
    """Attach to a ``Writer`` and register on ``registry``."""

    def __init__(self, writer: Writer, registry: CollectorRegistry) -> None:
        self._writer = writer
        self._symbols = frozenset(writer.config.symbols)
        self._lag = {symbol: _Buckets(m.DURABLE_LAG.buckets) for symbol in sorted(self._symbols)}
        self._batch = m.histogram(m.WRITER_BATCH, registry)
        self._sst_bytes = 0
        self._compaction_bytes = 0
        self._memory: dict[str, int] = {}
        self._store_up = 0
        registry.register(self)
        writer.persister.on_durable = self.durable
        writer.on_status = self.sample

    def durable(self, batch: Sequence[Record], seconds: float) -> None:
        """A batch is WAL-synced: its write time, and each live second's lag since its end."""
        self._batch.observe(seconds)
        now = self._writer.clock.now()
        lag = self._lag
        for record in batch:
            if not record.backfilled:
                buckets = lag.get(record.symbol)
                if buckets is not None:
                    buckets.observe(now - record.second - 1)

    def sample(self) -> None:
        """Read RocksDB's properties (on the writer's thread, with the status record)."""
        store = self._writer.store
        self._store_up = int(store.is_open)
        if store.is_open:
            self._sst_bytes = store.int_property(SST_SIZE)
            self._compaction_bytes = store.int_property(PENDING_COMPACTION)
            self._memory = store.memory()

    def collect(self) -> Iterator[Family | HistogramMetricFamily]:
        writer = self._writer
        status = writer.status
        stored, last = m.counter_family(m.STORED_SECONDS), m.gauge_family(m.LAST_STORED_SECOND)
        backfilled, missed = (
            m.counter_family(m.BACKFILLED_SECONDS),
            m.counter_family(m.MISSED_SECONDS),
        )
        lost = m.counter_family(m.LOST_SECONDS)
        counters = dict(status.symbols)  # one C-level copy: the writer's thread adds symbols
        lost_by_symbol = dict(writer.backfill.lost)
        for symbol in sorted(self._symbols):
            c = counters.get(symbol)
            stored.add_metric([symbol], c.stored_total if c else 0)
            backfilled.add_metric([symbol], c.backfilled if c else 0)
            missed.add_metric([symbol], c.missing_seconds if c else 0)
            lost.add_metric([symbol], lost_by_symbol.get(symbol, 0))
            if c is not None and c.last_stored is not None:
                last.add_metric([symbol], c.last_stored)
        yield from (stored, last, backfilled, missed, lost)
        lag = HistogramMetricFamily(m.DURABLE_LAG.name, m.DURABLE_LAG.help, labels=m.SYMBOL)
        for symbol, buckets in self._lag.items():
            pairs, total = buckets.exposed()
            lag.add_metric([symbol], pairs, total)
        yield lag
        # Causes are the literals of writer/validate.py and service.py, never wire values.
        rejected = m.counter_family(m.WRITER_REJECTED)
        for cause, count in sorted(dict(status.rejected).items()):
            rejected.add_metric([cause], count)
        yield rejected
        yield _single(m.gauge_family(m.WRITER_QUEUE), len(writer.persister.pending))
        yield _single(m.gauge_family(m.WRITER_QUEUE_CAPACITY), writer.persister.pending.capacity)
        yield _single(m.counter_family(m.WRITER_WRITE_ERRORS), status.write_errors)
        yield _single(m.counter_family(m.WRITER_DROPPED), status.dropped)
        yield _single(m.gauge_family(m.WRITER_STORE_UP), self._store_up)
        yield _single(m.gauge_family(m.ROCKSDB_SST_BYTES), self._sst_bytes)
        yield _single(m.gauge_family(m.ROCKSDB_COMPACTION_BYTES), self._compaction_bytes)
        memory = m.gauge_family(m.ROCKSDB_MEMORY)
        for part, size in sorted(self._memory.items()):
            memory.add_metric([part], size)
        yield memory
        try:
            disk = os.statvfs(writer.config.data_dir)
        except OSError:
            return
        yield _single(m.gauge_family(m.DISK_SIZE), disk.f_blocks * disk.f_frsize)
        yield _single(m.gauge_family(m.DISK_FREE), disk.f_bavail * disk.f_frsize)


def _single(family: Family, value: float) -> Family:
    family.add_metric([], value)
    return family


class _Buckets:
    """A histogram's counts kept with plain list increments (see the module docstring).

    Written by the writer's thread only; a scrape copies the list (one C-level operation), so
    the buckets it shows are consistent with each other, and the sum is at most one record off.
    """

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one: above every bound (+Inf)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    def exposed(self) -> tuple[list[tuple[str, float]], float]:
        """Cumulative ``(le, count)`` pairs (``+Inf`` last) and the sum."""
        counts, total = list(self.counts), self.sum
        pairs, running = [], 0
        for bound, count in zip((*map(str, self.bounds), "+Inf"), counts, strict=True):
            running += count
            pairs.append((bound, float(running)))
        return pairs, total
