"""The server processes (writer, collector, query, simulator, MCP) given hostile option values:
one error line and exit 1 or 2, never a traceback. (The client commands: tests/unit/client/
test_cli_hostile_options.py, in-process.)

The cases a generated run found are real processes here; the generated run itself starts ~540
of them and takes minutes, so it is marked ``slow`` (``make test-all``).
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
import pytest

from booksnap.cli import cli

BOOKSNAP = str(Path(sys.executable).parent / "booksnap")
LONG = "x" * 5000  # a file name longer than the system allows
SERVERS = ("writer", "collector", "query", "simulate", "mcp")
VALUES = ["nan", "inf", "1e309", "²", LONG, "-1", ""]
RUNNING = -1  # still serving when the run's time was up: the value was valid


def _run(args: list[str], cwd: Path, seconds: float = 20.0) -> tuple[int, str]:
    try:
        done = subprocess.run(
            [BOOKSNAP, *args], cwd=cwd, capture_output=True, text=True, timeout=seconds, check=False
        )
    except subprocess.TimeoutExpired as expired:
        output = expired.stderr or b""
        return RUNNING, output.decode(errors="replace") if isinstance(output, bytes) else output
    return done.returncode, done.stderr + done.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["writer", "--data-dir", LONG], "invalid --data-dir"),
        (["query", "--data-dir", LONG], "invalid --data-dir"),
        (["query", "--secondary-dir", LONG], "invalid --secondary-dir"),
        (["collector", "--rest-budget-file", LONG], "invalid --rest-budget-file"),
        (["simulate", "--log-level", "nan"], "invalid --log-level"),
        (["simulate", "--host", "nan", "--port", "0"], "cannot listen on nan:0"),
        (["simulate", "--host", "x" * 300, "--port", "0"], "cannot listen on"),
        (["mcp", "--http", "²"], "invalid --http"),
    ],
)
def test_found_cases_are_one_error_line(args, says, tmp_path):
    code, output = _run(args, tmp_path)
    assert code in (1, 2), output[-500:]
    assert "Traceback" not in output
    assert says in output
    assert len(output) < 2000  # bounded: never the whole hostile value


@pytest.mark.slow
def test_generated_values_for_every_server_option(tmp_path):
    jobs = []
    context = click.Context(cli)
    for name in SERVERS:
        command = cli.get_command(context, name)
        assert command is not None
        for param in command.params:
            if isinstance(param, click.Option) and not param.is_flag and param.opts:
                jobs += [[name, param.opts[0], value] for value in VALUES]

    def outcome(args: list[str]) -> tuple[list[str], int, str]:
        folder = tmp_path / str(abs(hash(tuple(args))))
        folder.mkdir()
        extra = ["--data-dir", str(folder)] if args[0] in ("writer", "query") else []
        code, output = _run([*args, *extra] if "--data-dir" not in args else args, folder, 4.0)
        return args, code, output

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(outcome, jobs))
    bad = [
        (args[:2], args[2][:12], code, output[-200:])
        for args, code, output in results
        if "Traceback" in output or code not in (0, 1, 2, RUNNING)
    ]
    assert len(results) > 400
    assert bad == []
