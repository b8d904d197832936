"""The ``booksnap`` group: help everywhere, clear usage errors, a clear 'not running' error."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from booksnap import options
from booksnap.cli import cli
from booksnap.commands import COMMANDS
from tests.support.waiting import free_endpoint

QUERY_COMMANDS = [command.name for command in COMMANDS]


def test_group_help_lists_every_subcommand():
    result = CliRunner().invoke(cli, ["--help"])

    assert result.exit_code == 0, result.output
    for name in [*QUERY_COMMANDS, "query", "writer", "collector", "simulate"]:
        assert name in result.output


@pytest.mark.parametrize("name", [*QUERY_COMMANDS, "query"])
def test_each_subcommand_has_help_with_an_example(name):
    result = CliRunner().invoke(cli, [name, "--help"])

    assert result.exit_code == 0, result.output
    assert "Example" in result.output
    assert "booksnap" in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["l1", "btc-usdt"], "invalid symbol"),
        (["l1"], "Missing argument 'SYMBOL'"),
        (["l2", "BTCUSDT", "--levels", "0"], "--levels"),
        (["l2", "BTCUSDT", "--levels", "101"], "--levels"),
        (["order-flow", "BTCUSDT", "--window", "5"], "--window"),
        (["health", "BTCUSDT", "--window", "301"], "--window"),
        (["anomalies", "BTCUSDT", "--end", "yesterday"], "not a time"),
        (["coverage", "BTCUSDT", "--start", "-2x"], "not a time ago: '-2x'"),
        (["snapshots", "BTCUSDT", "--start", "-99999999d"], "not a time ago"),
        (["volume-profile", "ETHUSDT", "--hours", "0"], "--hours"),
        (["volume-profile", "ETHUSDT", "--tick-size", "-1"], "positive price step"),
        (["volume-profile", "ETHUSDT", "--tick-size", "0.000000001"], "positive price step"),
        (["vacuums", "BTCUSDT", "--threshold", "1"], "--threshold"),
        (["snapshots", "BTCUSDT"], "--start"),
        (
            [
                "snapshots",
                "BTCUSDT",
                "--start",
                "2026-11-24T01:00:00Z",
                "--end",
                "2026-11-24T00:00:00Z",
            ],
            "before",
        ),
        (["coverage", "BTCUSDT", "--hours", "1", "--start", "0"], "either --hours"),
        (["coverage", "BTCUSDT", "--end", "100"], "--end needs --start"),
        (["l1", "BTCUSDT", "--timeout", "0"], "--timeout"),
        (["nosuch"], "No such command"),
    ],
)
def test_bad_arguments_are_usage_errors_before_anything_is_sent(args, fragment):
    # An endpoint nobody listens on: had anything been sent, this would time out (exit 3).
    result = CliRunner().invoke(
        cli, [*args, "--endpoint", free_endpoint()] if args[0] != "nosuch" else args
    )

    assert result.exit_code == 2, result.output
    assert fragment in result.output


def test_query_process_not_running_is_one_clear_line_and_exit_3():
    result = CliRunner().invoke(cli, ["status", "--endpoint", free_endpoint(), "--timeout", "0.3"])

    assert result.exit_code == 3
    assert "not answering" in result.output
    assert "booksnap query" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_query_option_errors_name_the_option(tmp_path):
    result = CliRunner().invoke(
        cli, ["query", "--data-dir", str(tmp_path), "--endpoint", "localhost"]
    )

    assert result.exit_code == 2
    assert "--endpoint" in result.output


def test_export_has_help_with_an_example_and_says_why_it_reads_the_database():
    result = CliRunner().invoke(cli, ["export", "--help"])

    assert result.exit_code == 0, result.output
    assert "Example" in result.output
    assert "not through the query process" in result.output
    assert "--data-dir" in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["export", "BTCUSDT", "--out", "x.parquet"], "--start"),
        (["export", "BTCUSDT", "--start", "0"], "--out"),
        (["export", "btc-usdt", "--start", "0", "--out", "x.parquet"], "invalid symbol"),
        (["export", "BTCUSDT", "--start", "10", "--end", "5", "--out", "x.parquet"], "before"),
        (["export", "BTCUSDT", "--start", "0", "--out", "x.parquet", "--levels", "0"], "--levels"),
        (["status", "--check", "--max-age", "0"], "--max-age"),
        (["status", "--check", "--symbols", "btc-usdt"], "--symbols"),
    ],
)
def test_export_and_check_usage_errors(args, fragment):
    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 2, result.output
    assert fragment in result.output


def test_export_refuses_an_existing_file_before_opening_anything(tmp_path):
    out = tmp_path / "x.parquet"
    out.write_text("keep")

    result = CliRunner().invoke(
        cli,
        [
            "export",
            "BTCUSDT",
            "--start",
            "0",
            "--end",
            "1",
            "--out",
            str(out),
            "--data-dir",
            "/nonexistent",
        ],
    )

    assert result.exit_code == 1
    assert "--force" in result.output
    assert out.read_text() == "keep"


def test_a_time_ago_is_that_long_before_now(monkeypatch):
    monkeypatch.setattr(options.time, "time", lambda: 1_795_478_400.7)
    convert = options.TimeType().convert
    assert convert("-15m", None, None) == 1_795_478_400 - 900
    assert convert(" -2h", None, None) == 1_795_478_400 - 7200
    assert convert("-0s", None, None) == 1_795_478_400
    assert convert("1795478400", None, None) == 1_795_478_400  # absolute times unchanged
