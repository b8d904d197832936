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
    context = click.Context(cli)
    for name in cli.list_commands(context):  # the lazily imported ones (keys) too
        command = cli.get_command(context, name)
        if name in SERVERS or command is None:
            continue
        if isinstance(command, click.Group):
            found.extend(([name, sub], c) for sub, c in sorted(command.commands.items()))
        else:
            found.append(([name], command))
    return found


def _base_args(
    words: list[str], command: click.Command, fuzzed: str, argument: str | None = None
) -> list[str]:
    """The command with its required parts filled in validly (all but the fuzzed option), its
    argument ``argument`` when given."""
    args = list(words)
    names = {p.name for p in command.params}
    if any(isinstance(p, click.Argument) for p in command.params):
        valid = "BTCUSDT" if words[0] != "keys" else "keys-dir"
        args.append(valid if argument is None else argument)
    for option, value in (("start", "0"), ("out", "out.parquet"), ("data_dir", "/nonexistent")):
        if option in names and option != fuzzed:
            args += [f"--{option.replace('_', '-')}", value]
    return args


@pytest.fixture
def nobody_answers(monkeypatch):
    def no_answer(self, method, params=None):
        raise QueryTimeout("no answer (test seam)")

    monkeypatch.setattr(QueryClient, "request", no_answer)


def _outcome(runner: CliRunner, args: list[str]) -> str | None:
    """None when the command ended as a command should (any exit, no traceback); else what."""
    result = runner.invoke(cli, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return repr(result.exception)[:80]
    if result.exit_code not in (0, 1, 2, 3) or "Traceback" in result.output:
        return f"exit {result.exit_code}: {result.output[-80:]!r}"
    return None


def test_hostile_values_are_usage_errors_never_tracebacks(nobody_answers, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # whatever a command would create lands here (keys init)
    runner = CliRunner()
    cases: list[list[str]] = []
    for words, command in _commands():
        for param in command.params:
            if isinstance(param, click.Option) and not param.is_flag and param.opts:
                name = param.name or ""
                cases += [[*_base_args(words, command, name), param.opts[0], v] for v in HOSTILE]
            elif isinstance(param, click.Argument):  # a symbol, a folder
                cases += [_base_args(words, command, "", argument=v) for v in HOSTILE]
    failures = [(args[:5], what) for args in cases if (what := _outcome(runner, args))]
    assert len(cases) > 1000
    assert failures == []
