"""Every option of every client command, given hostile values: a usage error (exit 2), or for a
value that is valid the command's own outcome (here: nobody answers, exit 3; export: no
database, exit 1). Never a traceback.

Sending is the seam: ``QueryClient.request`` times out at once instead of waiting for a query
process, so the ~1,500 invocations take seconds. (A command line cannot hold a NUL byte, so
none is tried.) ``tests/integration/client/test_cli_process_errors.py`` runs the cases this
found as real processes.
"""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from booksnap.cli import cli
from booksnap.client import QueryClient, QueryTimeout

HOSTILE = [
    "²",  # a digit to str.isdigit, not to int()
    "٣",
    "１２",
    "1e309",  # inf once a float
    "nan",
    "NaN",
    "inf",
    "-inf",
    "-1",
    "-0",
    "0",
    "1.5",
    "0x10",
    "1_000",
    "9" * 40,
    "",
    " ",
    "--",
    "-15m",
    "-9999999999999d",
    "9999999999999d",
    "x" * 5000,  # longer than any file name the system allows
]
SERVERS = {"query", "writer", "collector", "simulate", "mcp"}  # they would start serving


def _commands() -> list[tuple[list[str], click.Command]]:
    found: list[tuple[list[str], click.Command]] = []
    for name, command in sorted(cli.commands.items()):
        if name in SERVERS:
            continue
        if isinstance(command, click.Group):
            found.extend(([name, sub], c) for sub, c in sorted(command.commands.items()))
        else:
            found.append(([name], command))
    return found


def _base_args(words: list[str], command: click.Command, fuzzed: str) -> list[str]:
    """The command with its required parts filled in validly (all but the fuzzed option)."""
    args = list(words)
    names = {p.name for p in command.params}
    if any(isinstance(p, click.Argument) for p in command.params):
        args.append("BTCUSDT" if words[0] != "keys" else "keys-dir")
    for option, value in (("start", "0"), ("out", "out.parquet"), ("data_dir", "/nonexistent")):
        if option in names and option != fuzzed:
            args += [f"--{option.replace('_', '-')}", value]
    return args


@pytest.fixture
def nobody_answers(monkeypatch):
    def no_answer(self, method, params=None):
        raise QueryTimeout("no answer (test seam)")

    monkeypatch.setattr(QueryClient, "request", no_answer)


def test_hostile_option_values_are_usage_errors_never_tracebacks(
    nobody_answers, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # whatever a command would create lands here
    runner = CliRunner()
    failures = []
    tried = 0
    for words, command in _commands():
        for param in command.params:
            if not isinstance(param, click.Option) or param.is_flag or not param.opts:
                continue
            for value in HOSTILE:
                args = [*_base_args(words, command, param.name or ""), param.opts[0], value]
                result = runner.invoke(cli, args)
                tried += 1
                crashed = result.exception is not None and not isinstance(
                    result.exception, SystemExit
                )
                if crashed or result.exit_code not in (1, 2, 3) or "Traceback" in result.output:
                    failures.append((args[:4], value[:12], repr(result.exception)[:80]))
    assert tried > 1000
    assert failures == []
