"""What a soak run found: coverage per symbol, each gap with its likely cause, resyncs, memory."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shared.storage import SNAPSHOTS_CF, db_path, iter_range, open_secondary
from tests.soak.faults import Injected
from tests.support.books import book_problems
from tests.support.logs import ranges
from tests.support.pipeline import Pipeline

ATTRIBUTION_WINDOW = 40.0  # a gap that starts this long after a fault is not blamed on it
MARKER = "<!-- soak report: everything below is written by python -m tests.soak -->"


@dataclass
class SymbolResult:
    symbol: str
    expected: int
    stored: int
    gaps: list[tuple[int, int, str]]  # first, last, cause
    resyncs: int
    handovers: int
    restarts: int
    bad_books: list[str]


def stored_seconds(data_dir: Path, check_dir: Path, symbol: str, first: int, last: int) -> set[int]:
    reader = open_secondary(db_path(data_dir), check_dir)
    try:
        reader.try_catch_up_with_primary()
        family = reader.get_column_family(SNAPSHOTS_CF)
        return {second for second, _ in iter_range(family, symbol, first, last)}
    finally:
        reader.close()


def cause_of(first: int, symbol: str, faults: list[Injected]) -> str:
    """The latest fault touching ``symbol`` that began shortly before the gap, if any."""
    candidates = [
        f
        for f in faults
        if f.symbol in (None, symbol) and f.started - 2 <= first <= f.ended + ATTRIBUTION_WINDOW
    ]
    if not candidates:
        return "unexplained"
    fault = max(candidates, key=lambda f: f.started)
    return f"{fault.describe()} at {_clock(fault.started)}"


def analyse(
    pipe: Pipeline, work: Path, faults: list[Injected], first: int, last: int
) -> list[SymbolResult]:
    collector_log = pipe.log("collector").splitlines()
    results = []
    for symbol in pipe.symbols:
        stored = stored_seconds(pipe.data_dir, work / f"check-{symbol}", symbol, first, last)
        missing = set(range(first, last + 1)) - stored
        gaps = [(a, b, cause_of(a, symbol, faults)) for a, b in ranges(missing)]
        mine = [line for line in collector_log if f"[{symbol}]" in line]
        results.append(
            SymbolResult(
                symbol=symbol,
                expected=last - first + 1,
                stored=len(stored),
                gaps=gaps,
                resyncs=sum("book invalid" in line for line in mine),
                handovers=sum("switched from connection" in line for line in mine),
                restarts=sum(
                    f"collector {symbol} exited with code" in line for line in collector_log
                ),
                bad_books=book_problems(
                    pipe.data_dir, work / f"books-{symbol}", symbol, first, last
                ),
            )
        )
    return results


def render(
    results: list[SymbolResult],
    faults: list[Injected],
    peaks: dict[str, int],
    errors: dict[str, int],
    *,
    minutes: float,
    source: str,
    first: int,
    last: int,
) -> str:
    lines = [
        MARKER,
        "",
        "## Soak run",
        "",
        f"- Ran {minutes:.1f} minutes ({_clock(first)} to {_clock(last)} UTC, seconds "
        f"{first}..{last}), simulator source `{source}` at real speed, symbols "
        f"{', '.join(r.symbol for r in results)}.",
        f"- {len(faults)} faults injected at random: "
        + ", ".join(f"{name} ×{n}" for name, n in sorted(Counter(f.name for f in faults).items()))
        + ".",
        "",
        "### Coverage per symbol",
        "",
        "| symbol | seconds expected | stored | missing | coverage | resyncs | handovers "
        "| child restarts | wrong books stored |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.symbol} | {r.expected} | {r.stored} | {r.expected - r.stored} | "
            f"{100 * r.stored / r.expected:.2f} % | {r.resyncs} | {r.handovers} | {r.restarts} | "
            f"{len(r.bad_books)} |"
        )
    lines += ["", "### Gaps and their causes", ""]
    lines += ["| symbol | seconds | length | from (UTC) | likely cause |", "|---|---|---|---|---|"]
    for r in results:
        for a, b, cause in r.gaps:
            lines.append(f"| {r.symbol} | {a}..{b} | {b - a + 1} s | {_clock(a)} | {cause} |")
    by_cause: Counter[str] = Counter()
    for r in results:
        for a, b, cause in r.gaps:
            kind = cause.split(" at ")[0].split(" on ")[0]
            by_cause[kind] += b - a + 1
    lines += ["", "Seconds lost per kind of fault (all symbols):", ""]
    lines += [f"- {cause}: {n} s" for cause, n in by_cause.most_common()] or ["- none"]
    lines += ["", "### Faults injected", "", "| time (UTC) | fault |", "|---|---|"]
    lines += [f"| {_clock(f.started)} | {f.describe()} |" for f in faults]
    lines += ["", "### Peak memory (RSS, psutil, sampled once a second)", ""]
    lines += ["| process | peak RSS |", "|---|---|"]
    lines += [f"| {role} | {rss / 2**20:.0f} MiB |" for role, rss in sorted(peaks.items())]
    lines += ["", "### ERROR lines and tracebacks per process log", ""]
    lines += ["| process | ERROR lines | tracebacks |", "|---|---|---|"]
    lines += [
        f"| {name} | {count} | {errors.get(name + ' tracebacks', 0)} |"
        for name, count in sorted(errors.items())
        if not name.endswith(" tracebacks")
    ]
    for r in results:
        if r.bad_books:
            lines += ["", f"Wrong books of {r.symbol}: " + "; ".join(r.bad_books[:10])]
    return "\n".join(lines) + "\n"


def write_report(path: Path, text: str) -> None:
    """Replace the generated part of ``path`` (after MARKER), keeping what is written above."""
    head = path.read_text() if path.exists() else "# Reliability\n\n"
    if MARKER in head:
        head = head[: head.index(MARKER)]
    path.write_text(head.rstrip("\n") + "\n\n" + text)


def _clock(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%H:%M:%S")
