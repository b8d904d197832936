"""``booksnap export``: a symbol's stored seconds to Parquet, through ``booksnap.history``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import click
import pyarrow as pa

from booksnap import terminal
from booksnap.columns import BOOK_SCHEMA, TRADE_SCHEMA
from booksnap.history import History, HistoryUnavailable, open_history
from booksnap.options import last_option, start_option, symbol_argument
from booksnap.parquet_file import AtomicParquet, trades_path
from shared.config import DEFAULT_DATA_DIR, ENV_DATA_DIR, check_path
from shared.errors import BooksnapError, ConfigError
from shared.lifecycle import StopFlag, stop_on_signals
from shared.model import MAX_LEVELS
from shared.times import format_time

INTERRUPTED_EXIT = 130  # the shell's convention for a command stopped by SIGINT


class Interrupted(Exception):
    """Ctrl-C or SIGTERM arrived; the export stops between two batches."""


@click.command(name="export")
@symbol_argument
@start_option(required=True)
@last_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="The Parquet file to write (zstd).",
)
@click.option(
    "--levels",
    type=click.IntRange(1, MAX_LEVELS),
    default=None,
    help="Keep the best N levels of each side [default: all stored, 20 from the collectors].",
)
@click.option(
    "--trades",
    is_flag=True,
    help="Also write the aggregate trades, one row per trade, to a second file beside OUT "
    "(x.parquet → x.trades.parquet).",
)
@click.option("--force", is_flag=True, help="Replace OUT (and the trades file) if they exist.")
@click.option(
    "--data-dir",
    envvar=ENV_DATA_DIR,
    default=DEFAULT_DATA_DIR,
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=f"Directory holding the writer's database (<data-dir>/rocksdb; env {ENV_DATA_DIR}).",
)
def export(  # noqa: PLR0917  (click passes every option by keyword)
    symbol: str,
    start: int,
    end: int | None,
    out: Path,
    levels: int | None,
    trades: bool,
    force: bool,
    data_dir: Path,
) -> None:
    """Write SYMBOL's stored seconds from START to END to a Parquet file, one row per second.

    Prices and quantities are exact decimal(19, 8) columns, times are UTC timestamps, and the
    levels are list columns (schema: docs/storage.md). The file appears only when complete:
    it is written to a hidden temp file beside OUT and renamed at the end, so an error, Ctrl-C
    or SIGTERM leaves no partial file (exit 130 when interrupted).

    It reads the database directly (a read-only RocksDB secondary, safe beside the running
    writer), not through the query process: a day is 86,400 rows of 40 levels, which through
    the query process would be 24+ pages of JSON decoded and re-encoded, competing with
    live requests for its database worker. So it runs where the data directory is.

    \b
    Example:
        booksnap export BTCUSDT --start 2026-11-24T00:00:00Z --end 2026-11-24T23:59:59Z \\
            --out btc-2026-11-24.parquet --trades
    """
    last = end if end is not None else int(time.time())
    if last < start:
        raise click.BadParameter(
            f"{format_time(last)} is before --start {format_time(start)}", param_hint="--end"
        )
    targets = [out, *([trades_path(out)] if trades else [])]
    for path in targets:
        try:
            check_path("--out", path)  # a name the system refuses: too long, a NUL byte
        except ConfigError as exc:
            raise click.UsageError(str(exc)) from None
        if path.exists() and not force:
            raise click.ClickException(f"{path} exists; add --force to replace it")
        if not path.parent.is_dir():
            raise click.ClickException(f"directory {path.parent} does not exist")
    try:
        history = open_history(data_dir)
    except HistoryUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    with history, stop_on_signals() as stop:
        try:
            counts = _export(
                history,
                symbol=symbol,
                first=start,
                last=last,
                targets=targets,
                levels=levels,
                stop=stop,
            )
        except Interrupted:
            click.echo("export interrupted: no file written", err=True)
            raise SystemExit(INTERRUPTED_EXIT) from None
        except (BooksnapError, OSError, pa.ArrowException) as exc:
            # An unreadable record, a full disk, a database that went away: one line, no file.
            raise click.ClickException(f"export failed, no file written: {exc}") from None
    rows, trade_rows = counts
    click.echo(f"wrote {rows:,} seconds of {symbol} to {out}")
    if trades:
        click.echo(f"wrote {trade_rows:,} trades of {symbol} to {targets[1]}")


def _export(
    history: History,
    *,
    symbol: str,
    first: int,
    last: int,
    targets: list[Path],
    levels: int | None,
    stop: StopFlag,
) -> tuple[int, int]:
    """Write every target to its temp file, then rename them all; on any failure remove them."""
    files: list[AtomicParquet] = []
    try:
        files.append(AtomicParquet(targets[0], BOOK_SCHEMA))
        books = history.iter_batches(symbol, first, last, levels)
        _copy(books, files[0], what=f"{symbol} books", first=first, last=last, stop=stop)
        if len(targets) > 1:
            files.append(AtomicParquet(targets[1], TRADE_SCHEMA))
            trades = history.iter_trade_batches(symbol, first, last)
            _copy(trades, files[1], what=f"{symbol} trades", first=first, last=last, stop=stop)
        for file in files:
            file.commit()
    except BaseException:
        for file in files:
            file.abort()
        raise
    return files[0].rows, files[1].rows if len(files) > 1 else 0


def _copy(
    batches: Iterator[pa.RecordBatch],
    file: AtomicParquet,
    *,
    what: str,
    first: int,
    last: int,
    stop: StopFlag,
) -> None:
    with terminal.progress(what, last - first + 1) as advance:
        for batch in batches:
            if stop:
                raise Interrupted
            file.write(batch)
            advance(batch.column("second")[-1].as_py() - first + 1)
    if stop:
        raise Interrupted
