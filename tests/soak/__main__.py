"""``python -m tests.soak``: run the whole system for a while with random faults, then report."""

from __future__ import annotations

import logging
import random
import sys
import tempfile
import time
from pathlib import Path

import click

from shared.config import parse_symbols
from shared.errors import ConfigError
from tests.soak.faults import FaultInjector
from tests.soak.memory import PeakMemory
from tests.soak.report import analyse, render, write_report
from tests.support.pipeline import now_second, start_pipeline
from tests.support.processes import stop_all

log = logging.getLogger("soak")


@click.command()
@click.option("--minutes", type=click.FloatRange(0.5, 24 * 60), default=30.0, show_default=True)
@click.option("--symbols", default="BTCUSDT,ETHUSDT", show_default=True)
@click.option("--source", type=click.Choice(["replay", "synthetic"]), default="replay")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--fault-every",
    type=click.FloatRange(5, 600),
    default=25.0,
    show_default=True,
    help="Mean seconds between injected faults.",
)
@click.option("--seed", type=int, default=None, help="Random seed (default: from the clock).")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
def main(
    minutes: float,
    symbols: str,
    source: str,
    report: Path | None,
    fault_every: float,
    seed: int | None,
    work_dir: Path | None,
) -> None:
    """Run simulator, collectors, writer and query for --minutes with random faults."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s soak: %(message)s", stream=sys.stderr
    )
    try:
        chosen = parse_symbols("--symbols", symbols)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    seed = seed if seed is not None else int(time.time())
    rng = random.Random(seed)
    root = work_dir or Path(tempfile.mkdtemp(prefix="booksnap-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    log.info("work dir %s, seed %d, %.1f minutes", root, seed, minutes)
    pipe = start_pipeline(
        root,
        env={"BOOKSNAP_SYMBOLS": ",".join(chosen), "BOOKSNAP_SIM_SOURCE": source},
    )
    injector = FaultInjector(pipe, rng)
    memory = PeakMemory(pipe)
    first = now_second() + 2  # every symbol stores from here on
    started = time.monotonic()
    deadline = started + minutes * 60
    next_fault = started + rng.expovariate(1 / fault_every)
    try:
        while time.monotonic() < deadline - 15:  # the last 15 s: no fault, time to recover
            memory.sample()
            if time.monotonic() >= next_fault:
                injector.inject_random()
                next_fault = time.monotonic() + 8 + rng.expovariate(1 / fault_every)
            time.sleep(1.0)
        while time.monotonic() < deadline:
            memory.sample()
            time.sleep(1.0)
        last = now_second() - 3
        pipe.wait_stored_through(last + 1, timeout=60)
    finally:
        stop_all(list(pipe.procs.values()))
    ran = (time.monotonic() - started) / 60
    errors: dict[str, int] = {}
    for name in pipe.procs:
        text = pipe.log(name)
        errors[name] = sum(" ERROR " in line for line in text.splitlines())
        errors[f"{name} tracebacks"] = text.count("Traceback")
    results = analyse(pipe, root, injector.injected, first, last)
    text = render(
        results,
        injector.injected,
        memory.peaks,
        errors,
        minutes=ran,
        source=source,
        first=first,
        last=last,
    )
    text += f"\nSeed {seed}; logs of this run were in `{root}`.\n"
    if report is not None:
        write_report(report, text)
        log.info("report written to %s", report)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
