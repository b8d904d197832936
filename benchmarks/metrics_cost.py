"""``python -m benchmarks.metrics_cost``: what the Prometheus metrics cost the writer.

Prints (does not judge) two figures, for docs/operations.md:

- the writer's per-record metrics hook (``WriterMetrics.durable``) on batches of 1,000 live
  records, beside prometheus-client's ``Histogram.observe`` doing the same job;
- the CPU one scrape costs a real writer process (``process_cpu_seconds_total`` over 200 scrapes
  minus the same process's CPU over the same idle time).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from prometheus_client import CollectorRegistry, Histogram

from shared.lifecycle import StopFlag
from shared.metrics import new_registry
from tests.support.waiting import free_endpoint, free_port, poll_for
from writer.config import WriterConfig
from writer.metrics import WriterMetrics
from writer.pending import Record
from writer.service import Writer

ROUNDS = 100
SCRAPES = 200


def per_record_hook(root: Path) -> tuple[float, float]:
    """(µs per record through WriterMetrics.durable, µs per Histogram.observe)."""
    config = WriterConfig(
        data_dir=root,
        ingest_endpoint=free_endpoint(),
        backfill_endpoint=free_endpoint(),
        symbols=("BTCUSDT", "ETHUSDT"),
    )
    writer = Writer.from_config(config)
    metrics = WriterMetrics(writer, new_registry())
    now = int(time.time())
    batch = [Record(config.symbols[i % 2], now - 1, b"", b"", 1, i) for i in range(1000)]
    started = time.perf_counter()
    for _ in range(ROUNDS):
        metrics.durable(batch, 0.001)
    hook = (time.perf_counter() - started) / (ROUNDS * len(batch))
    stop = StopFlag()
    stop.request()
    writer.run(stop)  # opens, flushes nothing, closes the database and the sockets
    histogram = Histogram("lag", "lag", ["symbol"], registry=CollectorRegistry())
    children = {s: histogram.labels(s) for s in config.symbols}
    started = time.perf_counter()
    for _ in range(ROUNDS):
        for record in batch:
            children[record.symbol].observe(now - record.second - 1)
    library = (time.perf_counter() - started) / (ROUNDS * len(batch))
    return hook * 1e6, library * 1e6


def cpu(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return next(
        float(line.split()[1])
        for line in text.splitlines()
        if line.startswith("process_cpu_seconds_total")
    )


def per_scrape(root: Path) -> float:
    """ms of the writer process's CPU per scrape, its idle CPU subtracted."""
    port = free_port()
    argv = [sys.executable, "-m", "writer", "--data-dir", str(root / "data")]
    argv += ["--ingest-endpoint", free_endpoint(), "--backfill-endpoint", free_endpoint()]
    proc = subprocess.Popen([*argv, "--metrics-port", str(port)], stderr=subprocess.DEVNULL)
    try:
        poll_for(lambda: cpu(port) >= 0, 30, interval=0.2, what="the writer's exporter")
        time.sleep(2)  # past start-up
        first, started = cpu(port), time.monotonic()
        for _ in range(SCRAPES):
            cpu(port)
        busy, elapsed = cpu(port) - first, time.monotonic() - started
        idle_start = cpu(port)
        time.sleep(elapsed)
        idle = cpu(port) - idle_start
        return max(0.0, busy - idle) / (SCRAPES + 1) * 1e3
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        hook, library = per_record_hook(Path(folder) / "hook")
        print(f"writer metrics hook: {hook:.2f} µs/record (Histogram.observe: {library:.2f} µs)")
        print(f"one scrape of a real writer: {per_scrape(Path(folder)):.2f} ms CPU")


if __name__ == "__main__":
    main()
