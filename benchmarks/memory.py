"""Section 6: resident memory of every process of the pipeline over a long run; it must be flat.

The slope is a least-squares line through the samples after the first fifth of the run (start-up
allocations, caches filling), in MB per hour, per process kind.
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path

from benchmarks.pipeline import ROLES, Pipeline, Sample, Sampler, symbols_for
from benchmarks.result import Budget, Row, Section, verdict
from benchmarks.scale import GOAL_CPU_PERCENT, GOAL_PRIVATE_MB
from collector import wire
from collector.config import CollectorConfig
from shared import storage
from shared.metrics import ROCKSDB_MEMORY
from tests.support.waiting import free_port

CACHE = getattr(wire, "_FIXED_CACHE_SIZE", 0)  # the bound of the collector's number cache

# "Flat": the fitted line grows by at most 1% of the RSS (or 1 MB) over the steady part of the
# run. A day's extrapolation of a few minutes' slope would be dominated by sampling noise.
FLAT_SHARE = 0.01
FLAT_MB = 1.0


# Bounded structures that fill during a run: each collector keeps the records of the last
# ``buffer_seconds`` for backfill (15 minutes by default); the writer's memtables fill to their
# write-buffer size and are flushed (at 10 symbols ~every 20 minutes).
FILL_SECONDS = CollectorConfig.buffer_seconds


def cache_entry_bytes(entries: int = 50_000) -> float:
    """Bytes per entry of a number cache like the collector's (text -> scaled int), measured."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    cache = {f"{60_000 + i * 0.01:.8f}": 6_000_000_000_000 + i * 1_000_000 for i in range(entries)}
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del cache
    return used / entries


def steady_start(seconds: float) -> float:
    """Where the fitted part of a run starts: past the first fifth, and past the collectors'
    backfill buffer filling up when the run is long enough to leave half of it after that."""
    return max(seconds / 5, FILL_SECONDS if seconds >= 2 * FILL_SECONDS else 0.0)


def slope_per_hour(samples: list[Sample], role: str) -> float:
    """Least-squares MB/hour of ``role``'s RSS over ``samples``."""
    points = [(s.at, s.rss.get(role, 0.0)) for s in samples]
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_m = sum(m for _, m in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    cov = sum((t - mean_t) * (m - mean_m) for t, m in points)
    return cov / var * 3600


LONG_SECONDS = 7200.0  # the "memory-long" section: the 2-hour run of the lean-collectors issue
# 50 symbols fill the writer's 16 MB memtables in ~10 minutes, so a long run sees them flushed
# again and again (at 10 symbols one would only fill, looking like a leak).
LONG_SYMBOLS = 50


def writer_rows(steady: list[Sample], rocksdb: list[dict[str, float]]) -> list[Row]:
    """The writer's RocksDB memory (its exporter's gauge) at the start and end of the fitted
    part, and the rest of its RSS: which part of a writer's growth is the bounded cache."""
    if len(steady) < 2 or len(rocksdb) != 2 or not all(rocksdb):
        return []
    first, last = rocksdb
    mb = 1024 * 1024
    parts = ", ".join(
        f"{part} {first.get(part, 0) / mb:.1f} → {last.get(part, 0) / mb:.1f}"
        for part in ("cache", "memtables", "table_readers")
    )
    rest = [
        s.rss.get("writer", 0.0) - d.get("cache", 0) / 1e6
        for s, d in zip((steady[0], steady[-1]), rocksdb, strict=True)
    ]
    return [
        Row(
            "writer: RocksDB memory (MiB, start → end of the fitted part)",
            parts,
            f"bound of the cache (memtables' charge included): "
            f"{storage.WRITER_MEMORY / mb:.0f} MiB",
            "",
            "",
            "",
        ),
        Row(
            "writer: RSS less RocksDB's cache",
            f"{rest[0]:.0f} → {rest[1]:.0f} MB",
            "the interpreter, its queues and aggregates, RocksDB outside the cache",
            f"{rest[1] - rest[0]:+.1f} MB",
            "",
            "",
        ),
    ]


def collector_rows(steady: list[Sample], count: int) -> list[Row]:
    """Per symbol: the collectors' private memory (USS, PSS) and CPU over the fitted part, with
    the lean-collectors goals (the supervisor's share is spread over its symbols)."""
    if len(steady) < 2 or not count:
        return []
    rows = []
    span_h = (steady[-1].at - steady[0].at) / 3600
    for name, of in (("USS", lambda s: s.uss), ("PSS", lambda s: s.pss)):
        series = [of(s).get("collectors", 0.0) / count for s in steady]
        mean = sum(series) / len(series)
        points = [
            Sample(s.at, {}, {"collectors": v}, {}) for s, v in zip(steady, series, strict=True)
        ]
        growth = slope_per_hour(points, "collectors") * span_h
        half = len(points) // 2
        halves = [
            slope_per_hour(part, "collectors") * span_h / 2
            for part in (points[:half], points[half:])
        ]
        rows.append(
            Row(
                f"collectors: private memory ({name}) per symbol",
                f"{mean:.2f} MB",
                f"first {series[0]:.2f} → last {series[-1]:.2f} MB",
                f"fitted growth {growth * 1000:+.0f} kB per symbol over {span_h * 60:.0f} min "
                f"(first half {halves[0] * 1000:+.0f} kB, second {halves[1] * 1000:+.0f} kB)",
                f"≤ {GOAL_PRIVATE_MB:g} MB, flat",
                verdict(mean <= GOAL_PRIVATE_MB and growth <= max(0.05, FLAT_SHARE * mean)),
            )
        )
    cpu = sum(s.cpu.get("collectors", 0.0) for s in steady) / len(steady) / count
    rows.append(
        Row(
            "collectors: CPU per symbol (% of one core, mean of the samples)",
            f"{cpu:.3f} %",
            f"{count} symbols: {cpu * count:.1f} % in all",
            "",
            f"≤ {GOAL_CPU_PERCENT:g} %",
            verdict(cpu <= GOAL_CPU_PERCENT),
        )
    )
    return rows


def run(budget: Budget) -> Section:
    """The few-minute run of ``make bench``: shows growth of tens of MB per hour."""
    count, seconds = budget.memory_symbols, budget.memory_seconds
    return measure(
        Section(
            "memory",
            "Memory over time",
            f"python -m benchmarks memory --memory-seconds {seconds:g} --memory-symbols {count}",
        ),
        count,
        seconds,
    )


def run_long(budget: Budget) -> Section:
    """The 2-hour run: too long for ``make bench``'s 20 minutes, so run (and kept) apart."""
    count = budget.memory_symbols if budget.smoke else LONG_SYMBOLS
    seconds = 6.0 if budget.smoke else LONG_SECONDS
    return measure(
        Section("memory-long", "Memory over a 2-hour run", "python -m benchmarks memory-long"),
        count,
        seconds,
    )


def measure(section: Section, count: int, seconds: float) -> Section:
    """Run the pipeline for ``seconds`` with ``count`` symbols, sampling each process's RSS."""
    interval = max(1.0, seconds / 150)
    with tempfile.TemporaryDirectory(prefix="booksnap-memory-") as tmp:
        metrics_port = free_port()
        pipeline = Pipeline(
            Path(tmp), symbols_for(count), writer_args=("--metrics-port", str(metrics_port))
        )
        rocksdb: list[dict[str, float]] = []
        sampler: Sampler | None = None
        casualties: dict[str, str] = {}
        try:
            pipeline.start()
            pipeline.wait_all_stored(90.0)
            sampler = Sampler(pipeline.roots(), interval).start()
            steady_from = steady_start(seconds)
            time.sleep(steady_from)
            cache_from = pipeline.collector_counters().get("number_cache", 0)
            rocksdb.append(pipeline.writer_metric(metrics_port, ROCKSDB_MEMORY.name))
            time.sleep(seconds - steady_from)
            cache_to = pipeline.collector_counters().get("number_cache", 0)
            rocksdb.append(pipeline.writer_metric(metrics_port, ROCKSDB_MEMORY.name))
            casualties = pipeline.casualties()
        finally:
            if sampler is not None:
                sampler.stop()
            pipeline.stop()
    samples = sampler.samples if sampler else []
    steady = [s for s in samples if s.at >= steady_from]
    for role in ROLES:
        series = [s.rss.get(role, 0.0) for s in steady]
        if not series:
            continue
        slope = slope_per_hour(steady, role)
        mean = sum(series) / len(series)
        span_h = (steady[-1].at - steady[0].at) / 3600 if len(steady) > 1 else 0.0
        growth = slope * span_h
        flat = growth <= max(FLAT_MB, FLAT_SHARE * mean)
        section.rows.append(
            Row(
                f"{role}: RSS slope",
                f"{slope:+.1f} MB/hour",
                f"mean RSS {mean:.0f} MB (first {series[0]:.0f} → last {series[-1]:.0f} MB)",
                f"fitted growth {growth:+.1f} MB over {span_h * 60:.1f} min",
                "flat: growth ≤ 1% of RSS (or 1 MB) over the run",
                verdict(flat),
            )
        )
    section.rows += writer_rows(steady, rocksdb)
    section.rows += collector_rows(steady, count)
    if CACHE:
        per_entry = cache_entry_bytes()
        added_mb = (cache_to - cache_from) * per_entry / 1e6
        section.rows.append(
            Row(
                "collectors: number-cache entries added over the fitted part",
                f"{cache_to - cache_from:+,} entries ≈ {added_mb:+.1f} MB",
                f"{per_entry:.0f} B per entry (measured); bound {CACHE:,} entries "
                f"≈ {CACHE * per_entry / 1e6:.0f} MB per collector, then cleared",
                f"{cache_to:,} entries over {count} collectors at the end",
                "",
                "",
            )
        )
    section.notes = [
        f"{count} synthetic symbols for {seconds:.0f} s after warm-up, RSS sampled every "
        f"{interval:.0f} s ({len(samples)} samples; the slope uses the {len(steady)} from "
        f"{steady_from:.0f} s on: past the first fifth, and in a run of at least "
        f"{2 * FILL_SECONDS / 60:.0f} minutes past the {FILL_SECONDS / 60:.0f} minutes in which "
        "each collector's backfill buffer fills). RSS is summed over each process tree (the "
        "collector supervisor and its children; the query's database worker).",
    ]
    if seconds < LONG_SECONDS:
        section.notes.append(
            f"A run of {seconds / 60:.0f} minutes shows less of a slow leak than the 2-hour "
            f"run ({LONG_SYMBOLS} symbols), its own section: `python -m benchmarks memory-long`."
        )
    for role, what in casualties.items():
        section.notes.append(f"The {role} process ended during the run ({what}).")
    section.reading = memory_reading(section.rows, seconds)
    return section


def memory_reading(rows: list[Row], seconds: float) -> str:
    """The section's reading, from its rows alone (so a kept section can be read again)."""
    slopes = [r for r in rows if "RSS slope" in r.figure]
    grew = [r for r in slopes if r.verdict == "NOT met"]
    if grew:
        text = (
            "Resident memory grew in: "
            + "; ".join(f"{r.figure.split(':')[0]} {r.value} ({r.ratio})" for r in grew)
            + ". Part of that can be bounded structures still filling: each collector's backfill "
            f"buffer ({FILL_SECONDS / 60:.0f} minutes of records)"
            + (
                f" and cache of number texts (collector.wire, up to {CACHE:,} entries, then "
                "cleared)"
                if CACHE
                else ""
            )
            + ", the writer's RocksDB memtables (flushed at their write-buffer size) and block "
            "cache. Growth past those bounds would be a leak"
            + (
                "."
                if seconds >= 2 * FILL_SECONDS
                else "; the 2-hour run (`memory-long`) fits its line past them."
            )
        )
    else:
        text = (
            f"Over {seconds / 60:.0f} minutes every process's resident memory stayed flat ("
            + "; ".join(f"{r.figure.split(':')[0]} {r.value}" for r in slopes)
            + "). A slope fitted over minutes is noisy: small growth rates stay within the "
            "resolution of a run this short."
        )
    per_symbol = {r.figure.split(" per symbol")[0]: r for r in rows if "per symbol" in r.figure}
    uss = per_symbol.get("collectors: private memory (USS)")
    pss = per_symbol.get("collectors: private memory (PSS)")
    cpu = per_symbol.get("collectors: CPU")
    if uss and pss and cpu:
        text += (
            f" Per symbol the collectors held {uss.value} private (USS; PSS {pss.value}), "
            f"{uss.reference} with a {uss.ratio}, and used {cpu.value} of a core; the "
            f"lean-collectors goals ({uss.goal}; {cpu.goal} of a core) are "
            f"{'met' if uss.verdict == cpu.verdict == 'met' else 'not all met'}."
        )
    return text
