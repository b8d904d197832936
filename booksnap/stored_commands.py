"""The stored-data subcommands of ``booksnap``: snapshots, status (and its probe), coverage."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import click

from booksnap import render, terminal
from booksnap.coverage import DAY, merge
from booksnap.liveness import DEFAULT_MAX_AGE, MAX_MAX_AGE, check_symbols
from booksnap.options import (
    ask,
    client_for,
    connection_options,
    last_option,
    output,
    param_option,
    query_errors,
    start_option,
    symbol_argument,
)
from shared.config import DEFAULT_SYMBOLS, ENV_SYMBOLS, parse_symbols
from shared.errors import ConfigError
from shared.methods import BY_NAME
from shared.times import format_time


@click.command(name="snapshots")
@symbol_argument
@start_option(required=True)
@last_option
@param_option("--levels", "query_snapshots", "levels", default=False)
@click.option("--trades", is_flag=True, help="Include each second's trades.")
@connection_options
def snapshots(
    *,
    symbol: str,
    start: int,
    end: int | None,
    levels: int | None,
    trades: bool,
    endpoint: str,
    timeout: float,
    as_json: bool,
) -> None:
    """Stored 1-second snapshots from START to END; --json prints one JSON line per second.

    Prices and quantities are the exact 8-decimal strings Binance sent. Long ranges are fetched
    page by page (3,600 seconds per request) and streamed.

    \b
    Example:
        booksnap snapshots BTCUSDT --start 2026-11-24T08:00:00Z --end 2026-11-24T08:05:00Z --json
    """
    if end is not None and end < start:
        raise click.BadParameter(
            f"{format_time(end)} is before --start {format_time(start)}", param_hint="--end"
        )
    rows: list[dict[str, Any]] = []
    last = end if end is not None else int(time.time())
    with (
        client_for(endpoint, timeout) as client,
        query_errors(client),
        terminal.progress(f"{symbol} snapshots", last - start + 1) as advance,
    ):
        for snap in client.iter_snapshots(symbol, start, end, levels=levels, trades=trades):
            if as_json:
                click.echo(json.dumps(snap, separators=(",", ":")))
            else:
                rows.append(render.render_snapshot_row(snap))
            advance(snap["second"] - start + 1)
    if not as_json:
        terminal.echo(
            render.render_table(rows) if rows else f"no snapshots of {symbol} stored in that range"
        )


@click.command(name="status")
@click.option(
    "--check",
    is_flag=True,
    help="Health probe: one line per configured symbol; exit 1 if any has stored nothing for "
    "--max-age seconds (3 if the query process does not answer), else 0.",
)
@click.option(
    "--max-age",
    type=click.IntRange(1, MAX_MAX_AGE),
    default=DEFAULT_MAX_AGE,
    show_default=True,
    help="With --check: seconds without a stored second before a symbol is stale.",
)
@click.option(
    "--symbols",
    envvar=ENV_SYMBOLS,
    default=",".join(DEFAULT_SYMBOLS),
    show_default=True,
    help=f"With --check: the symbols that must be stored (env {ENV_SYMBOLS}).",
)
@connection_options
def status(  # noqa: PLR0917  (click passes every option by keyword)
    check: bool, max_age: int, symbols: str, endpoint: str, timeout: float, as_json: bool
) -> None:
    """Per symbol: is its collector publishing, what is stored, gaps and restarts; database size.

    With --check it is a probe for systemd or Kubernetes: it exits non-zero when any configured
    symbol has stored nothing for --max-age seconds.

    \b
    Examples:
        booksnap status
        booksnap status --check --max-age 10
    """
    if not check:
        output(ask(endpoint, timeout, "status", {}), as_json, render.render_status)
        return
    try:
        configured = parse_symbols("--symbols", symbols)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--symbols") from None
    checks = check_symbols(ask(endpoint, timeout, "status", {}), configured, max_age)
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(c) for c in checks], indent=2))
    else:
        terminal.echo("\n".join(item.line(max_age) for item in checks))
    if not all(item.ok for item in checks):
        raise SystemExit(1)


@click.command(name="coverage")
@symbol_argument
@param_option("--hours", "coverage", "duration_hours", default=False)
@start_option(required=False)
@last_option
@connection_options
def coverage(
    *,
    symbol: str,
    hours: int | None,
    start: int | None,
    end: int | None,
    endpoint: str,
    timeout: float,
    as_json: bool,
) -> None:
    """The fraction of seconds stored in a range, and the missing ranges.

    \b
    Examples:
        booksnap coverage BTCUSDT --hours 1
        booksnap coverage BTCUSDT --start 2026-11-24T00:00:00Z --end 2026-11-24T06:00:00Z
    """
    if hours is not None and start is not None:
        raise click.UsageError("give either --hours or --start/--end, not both")
    if start is None and end is not None:
        raise click.BadParameter("--end needs --start (or use --hours)", param_hint="--end")
    if start is not None and end is not None and end < start:
        raise click.BadParameter(
            f"{format_time(end)} is before --start {format_time(start)}", param_hint="--end"
        )
    if start is None:
        # As the query process resolves --hours: the last N whole hours up to the last second.
        end = int(time.time()) - 1
        start = end - (hours or BY_NAME["coverage"].param("duration_hours").default) * 3600 + 1
    elif end is None:
        end = int(time.time()) - 1
    output(_coverage(symbol, start, end, endpoint, timeout), as_json, render.render_coverage)


def _coverage(symbol: str, start: int, end: int, endpoint: str, timeout: float) -> Any:
    """One request for a day or less; day by day with a progress bar for longer ranges."""
    with client_for(endpoint, timeout) as client, query_errors(client):
        if end - start < DAY:
            return client.request("coverage", {"symbol": symbol, "start": start, "end": end})
        parts: list[dict[str, Any]] = []
        missing: list[bool] = []
        with terminal.progress(f"{symbol} coverage", end - start + 1) as advance:
            for part, last_missing in client.iter_coverage(symbol, start, end):
                parts.append(part)
                missing.append(last_missing)
                advance(part["end"] - start + 1)
        return merge(parts, missing)
