"""A/B of the collectors' CPU: two (or more) source trees side by side on one simulator.

    python -m benchmarks.collector_ab /path/to/tree-a /path/to/tree-b [--symbols 20 --seconds 150]

Each tree runs its own ``python -m collector`` (supervisor and one forked child per symbol) on
the same synthetic symbols of one simulator, at the same time, publishing to endpoints nobody
reads. After 40 s of warm-up the CPU of each supervisor's process tree is taken over the same
window and divided by the depth events its summary lines counted in it. Absolute figures move by
~20 % between runs on a shared machine; two trees measured in the same window are comparable,
which is how the collector's CPU changes were judged (docs/scaling.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import psutil

from benchmarks.peers import SUMMARY_INTERVAL, cpu_seconds, process_tree, summary_events
from benchmarks.pipeline import private_memory, symbols_for
from tests.support.waiting import free_endpoint, free_port

WARMUP = 40.0  # s: every book synced, every buffer past its first records


@click.command()
@click.argument("trees", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--symbols", default=20, show_default=True, type=click.IntRange(1, 200))
@click.option("--seconds", default=150.0, show_default=True, type=click.FloatRange(10, 3600))
def main(trees: tuple[str, ...], symbols: int, seconds: float) -> None:
    """CPU per depth event of each tree's collectors, measured side by side."""
    names = ",".join(symbols_for(symbols))
    tmp = Path(tempfile.mkdtemp(prefix="booksnap-collector-ab-"))
    port = free_port()
    sim_args = ["--port", str(port), "--symbols", names, "--source", "synthetic"]
    sim_args += ["--weight-limit", "10000000", "--log-level", "WARNING"]
    sim = subprocess.Popen(
        [sys.executable, "-m", "simulator", *sim_args],
        stdout=(tmp / "simulator.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        time.sleep(3)
        for index, tree in enumerate(trees):
            args = ["--symbols", names, "--summary-interval", str(SUMMARY_INTERVAL)]
            args += ["--rest-url", f"http://127.0.0.1:{port}", "--ws-url", f"ws://127.0.0.1:{port}"]
            args += ["--ingest-endpoint", free_endpoint(), "--live-endpoint", free_endpoint()]
            args += ["--backfill-endpoint", free_endpoint()]
            args += ["--rest-budget-file", str(tmp / f"budget-{index}")]
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "collector", *args],
                    cwd=tree,
                    env={**os.environ, "PYTHONPATH": str(Path(tree).resolve())},
                    stdout=(tmp / f"collectors-{index}.log").open("wb"),
                    stderr=subprocess.STDOUT,
                )
            )
        time.sleep(WARMUP)
        before = [cpu_seconds(process_tree(p.pid)) for p in procs]
        begin = time.time()
        time.sleep(seconds)
        after = [cpu_seconds(process_tree(p.pid)) for p in procs]
        end = time.time()
        uss = [
            sum(private_memory(c.pid)[0] for c in psutil.Process(p.pid).children()) / symbols
            for p in procs
        ]
    finally:
        for proc in (*procs, sim):
            proc.terminate()
        for proc in (*procs, sim):
            proc.wait(15)
    for index, tree in enumerate(trees):
        cpu = after[index] - before[index]
        counted = summary_events(tmp / f"collectors-{index}.log", begin, end)
        events = counted * (end - begin) / (end - begin - SUMMARY_INTERVAL)  # scaled to it
        click.echo(
            f"{tree}: {100 * cpu / (end - begin) / symbols:.3f} % of a core per symbol, "
            f"{1e6 * cpu / max(events, 1):.0f} µs per depth event ({events:,.0f} events), "
            f"USS {uss[index]:.2f} MB per child"
        )
    click.echo(f"logs: {tmp}")


if __name__ == "__main__":
    main()
