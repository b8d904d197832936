"""Every process option can be set from the environment (honcho's .env), as the README says."""

from __future__ import annotations

import importlib

import click
import pytest

# --symbol picks one child of the collector supervisor; the supervisor passes it explicitly.
# --metrics-port is one process's exact port; its environment form is BOOKSNAP_METRICS_PORT, a
# base port every process adds its own offset to (shared/metrics.py), read by the hidden
# --metrics-base-port, since one .env is shared by all processes.
COMMAND_LINE_ONLY = {("collector", "symbol")} | {
    (package, "metrics_port") for package in ("collector", "writer", "query")
}


@pytest.mark.parametrize("package", ["simulator", "collector", "writer", "query"])
def test_every_process_option_has_a_booksnap_environment_variable(package: str) -> None:
    command = importlib.import_module(f"{package}.__main__").main
    assert isinstance(command, click.Command)
    for param in command.params:
        if not isinstance(param, click.Option) or (package, param.name) in COMMAND_LINE_ONLY:
            continue
        assert param.envvar, f"{package} {param.opts[0]} has no environment variable"
        envvars = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar)
        assert all(name.startswith("BOOKSNAP_") for name in envvars), envvars
