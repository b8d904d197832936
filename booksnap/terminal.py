"""Rich on a terminal, plain text when piped: the CLI's printing and progress bars.

Programs reading booksnap's output (``--json``, or plain text through a pipe) never see colour
codes or progress bars; a person at a terminal gets colour (rich's highlighter: numbers, times,
yes/no) and a progress bar on stderr for long work.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

Advance = Callable[[int], None]  # called with the units done so far


def _console(stderr: bool) -> Console:
    return Console(stderr=stderr, highlight=True, soft_wrap=True)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def echo(text: str) -> None:
    """Print a rendered reply: highlighted on a terminal, exactly ``text`` when piped."""
    if stdout_is_terminal():
        _console(stderr=False).print(text, markup=False)
    else:
        click.echo(text)


@contextmanager
def progress(description: str, total: int, unit: str = "s") -> Iterator[Advance]:
    """A progress bar on stderr while the block runs, when stderr is a terminal; else silent.

    Yields ``update(done)``, with ``done`` out of ``total`` (seconds of a range, by default).
    """
    console = _console(stderr=True)
    if not console.is_terminal:
        yield lambda done: None
        return
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=max(total, 1))

        def update(done: int) -> None:
            bar.update(task, completed=min(max(done, 0), total))

        yield update
