"""``python -m benchmarks [SECTION ...]``: run the benchmarks and write the markdown report."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from benchmarks.result import Budget
from benchmarks.runner import DEFAULT_SECTIONS, SECTIONS, run_sections

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


@click.command()
@click.argument("sections", nargs=-1, type=click.Choice(SECTIONS))
@click.option("--smoke", is_flag=True, help="Tiny sizes (seconds); writes to a temp file.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Report path [default: docs/benchmarks.md; with --smoke a temp file].",
)
@click.option(
    "--scale-seconds",
    type=click.FloatRange(5, 3600),
    default=None,
    help="Measured seconds per symbol count in the scale section [default: 100, smoke 8].",
)
@click.option(
    "--scale-symbols",
    default=None,
    help="Comma-separated symbol counts for the scale section [default: 10,50,100; smoke 10].",
)
@click.option(
    "--memory-seconds",
    type=click.FloatRange(5, 7200),
    default=None,
    help="Length of the memory-over-time run [default: 300, smoke 6].",
)
@click.option("--memory-symbols", type=click.IntRange(1, 200), default=10, show_default=True)
def main(  # noqa: PLR0917  (click passes every option by keyword anyway)
    sections: tuple[str, ...],
    smoke: bool,
    out: Path | None,
    scale_seconds: float | None,
    scale_symbols: str | None,
    memory_seconds: float | None,
    memory_symbols: int,
) -> None:
    """Measure booksnap on this machine and write the report (sections: all by default).

    \b
    Examples:
        python -m benchmarks                  # all but memory-long, rewrites docs/benchmarks.md
        python -m benchmarks memory-long      # the 2-hour memory run (kept in the report)
        python -m benchmarks book latency     # two sections only
        python -m benchmarks --smoke          # seconds-long check that every section runs
    """
    try:
        counts = tuple(
            int(c) for c in (scale_symbols or ("10" if smoke else "10,50,100")).split(",")
        )
    except ValueError:
        raise click.BadParameter(
            "expected counts like 10,50,100", param_hint="--scale-symbols"
        ) from None
    if any(c < 1 for c in counts):
        raise click.BadParameter("counts must be positive", param_hint="--scale-symbols")
    budget = Budget(
        smoke=smoke,
        scale_seconds=scale_seconds or (8.0 if smoke else 100.0),
        scale_symbols=counts,
        memory_seconds=memory_seconds or (6.0 if smoke else 300.0),
        memory_symbols=memory_symbols,
    )
    if out is None:
        out = Path(tempfile.mkdtemp(prefix="booksnap-bench-")) / "benchmarks.md" if smoke else DOCS
    run_sections(sections or DEFAULT_SECTIONS, budget, out)
    click.echo(f"report written to {out}")


if __name__ == "__main__":
    main()
