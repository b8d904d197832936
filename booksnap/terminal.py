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
from rich.highlighter import RegexHighlighter
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from rich.theme import Theme

Advance = Callable[[int], None]  # called with the units done so far


class ReplyHighlighter(RegexHighlighter):
    """Numbers, UTC times and verdicts in booksnap's replies."""

    base_style = "booksnap."
    highlights = [  # noqa: RUF012  (rich reads this class attribute)
        r"(?P<number>(?<![\w.:-])-?\d+(\.\d+)?(?![\w.:-]))",
        r"(?P<bad>\b(STALE|NOT met|no|none)\b)",
        r"(?P<good>\b(ok|yes|met)\b)",
        # Last, so a time's digits are coloured as a time, not as numbers.
        r"(?P<time>\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)",
    ]


THEME = Theme(
    {
        "booksnap.time": "cyan",
        "booksnap.number": "bold",
        "booksnap.bad": "bold red",
        "booksnap.good": "green",
        "booksnap.header": "bold underline",
        "booksnap.rule": "dim",
    }
)


def _console(stderr: bool) -> Console:
    return Console(stderr=stderr, highlighter=ReplyHighlighter(), theme=THEME, soft_wrap=True)


def styled(text: str) -> Text:
    """``text`` with table headers (the line above a rule of dashes) bold and rules dimmed."""
    lines = text.split("\n")
    out = Text()
    highlighter = ReplyHighlighter()
    for i, line in enumerate(lines):
        if i:
            out.append("\n")
        is_rule = bool(line.strip()) and set(line.strip()) <= {"-", " "}
        above_rule = (
            i + 1 < len(lines)
            and set(lines[i + 1].strip()) <= {"-", " "}
            and bool(lines[i + 1].strip())
        )
        if is_rule:
            out.append(line, style="booksnap.rule")
        elif above_rule:
            out.append(line, style="booksnap.header")
        else:
            out.append(highlighter(line))
    return out


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def echo(text: str) -> None:
    """Print a rendered reply: highlighted on a terminal, exactly ``text`` when piped."""
    if stdout_is_terminal():
        _console(stderr=False).print(styled(text))
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
