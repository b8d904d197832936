"""The writer's command line: help and bad options (nothing is started)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from writer.__main__ import main


def test_help_shows_an_example():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "python -m writer --data-dir" in result.output


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--ingest-endpoint", "nonsense"], "--ingest-endpoint"),
        (["--retention", "7w"], "--retention"),
        (["--retention-days", "0"], "--retention"),
        (["--symbols", "btc-usdt"], "--symbols"),
        (["--log-level", "LOUD"], "--log-level"),
    ],
)
def test_bad_options_exit_naming_the_option(tmp_path, args, option):
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), *args])
    assert result.exit_code == 2
    assert option in result.output
