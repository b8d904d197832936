"""Run the chosen sections in order, never letting one failure stop the others."""

from __future__ import annotations

import importlib
import logging
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import click

from benchmarks import machine, report
from benchmarks.result import Budget, Section

SECTIONS = (
    "book",
    "ingest",
    "storage",
    "latency",
    "history",
    "load",
    "scale",
    "peers",
    "memory",
    "memory-long",
)
# What ``make bench`` runs: all but the 2-hour memory run, which alone would exceed its 20
# minutes; its last result stays in the report (each section keeps its own date).
DEFAULT_SECTIONS = SECTIONS[:-1]
MODULES = {
    "book": "benchmarks.book",
    "ingest": "benchmarks.ingest",
    "storage": "benchmarks.storage",
    "latency": "benchmarks.latency",
    "history": "benchmarks.history",
    "load": "benchmarks.load",
    "scale": "benchmarks.scale",
    "peers": "benchmarks.peers",
    "memory": "benchmarks.memory",
    "memory-long": "benchmarks.memory",
}
ENTRY = {"memory-long": "run_long"}  # the function of MODULES[key] to call (default ``run``)
TITLES = {
    "book": "Book engine",
    "ingest": "Writer ingest",
    "storage": "Storage",
    "latency": "Query latency",
    "history": "History API",
    "load": "Many clients of the query process",
    "scale": "Scale on one machine",
    "peers": "Side by side with cryptofeed",
    "memory": "Memory over time",
    "memory-long": "Memory over a 2-hour run",
}


def run_one(key: str, budget: Budget) -> Section:
    """One section; an exception becomes the section's error (benchmarks report, never fail)."""
    started = time.perf_counter()
    ran_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    try:
        module = importlib.import_module(MODULES[key])
        section: Section = getattr(module, ENTRY.get(key, "run"))(budget)
    except Exception as exc:
        logging.getLogger(__name__).debug("section %s failed", key, exc_info=True)
        tail = traceback.format_exc().strip().splitlines()[-1]
        section = Section(key, TITLES[key], f"python -m benchmarks {key}")
        section.error = f"{type(exc).__name__}: {exc}".strip()[:600] or tail
    section.seconds = time.perf_counter() - started
    section.ran_at = ran_at
    return section


def run_sections(keys: Sequence[str], budget: Budget, out: Path) -> list[Section]:
    """Run ``keys`` in the canonical order and write the report to ``out`` after each one.

    Sections of an existing report at ``out`` that are not re-run are kept as they are (their
    own date stays beside them), so one section can be re-measured without the others.
    """
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    info = machine.describe()
    commit = machine.source_commit(Path(__file__).resolve().parent.parent, out)
    kept = {s.key: s for s in report.load_sections(out.read_text())} if out.exists() else {}
    done: list[Section] = []
    for key in [k for k in SECTIONS if k in keys]:
        click.echo(f"[benchmarks] {key} ...", err=True)
        section = run_one(key, budget)
        section.commit = commit
        state = f"failed: {section.error}" if section.error else "done"
        click.echo(f"[benchmarks] {key} {state} in {section.seconds:.0f} s", err=True)
        done.append(section)
        kept[key] = section
        # Written after every section, so a long run interrupted late still leaves a report.
        ordered = [kept[k] for k in SECTIONS if k in kept]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report.render(ordered, info, started, budget.smoke, SECTIONS))
    return done
