"""``python -m writer``: store every collector's snapshots in RocksDB."""

from __future__ import annotations

import contextlib
import gc
import logging
import sys
from pathlib import Path

import click
import zmq

from shared.config import (
    DEFAULT_BACKFILL_ENDPOINT,
    DEFAULT_DATA_DIR,
    DEFAULT_INGEST_ENDPOINT,
    ENV_BACKFILL_ENDPOINT,
    ENV_DATA_DIR,
    ENV_INGEST_ENDPOINT,
    ENV_PENDING_CAPACITY,
    ENV_RETENTION,
    ENV_RETENTION_DAYS,
    ENV_RETENTION_INTERVAL,
    check_log_level,
    log_level_option,
    parse_symbols,
    symbols_option,
)
from shared.errors import ConfigError
from shared.lifecycle import stop_on_signals
from shared.log import configure_logging
from shared.metrics import metrics_config, metrics_options, new_registry, start_exporter
from shared.private_files import private_dir, use_private_umask
from shared.security import security_options
from writer.config import DAY, WriterConfig, parse_duration
from writer.metrics import WriterMetrics
from writer.service import Writer
from writer.startup import DatabaseUnusable
from writer.storedlog import cache_time_formatting


@click.command(name="writer")
@click.option(
    "--data-dir",
    envvar=ENV_DATA_DIR,
    default=DEFAULT_DATA_DIR,
    show_default=True,
    help="Directory holding the database (<data-dir>/rocksdb).",
)
@click.option(
    "--ingest-endpoint",
    envvar=ENV_INGEST_ENDPOINT,
    default=DEFAULT_INGEST_ENDPOINT,
    show_default=True,
    help="Where to bind the SUB socket collectors publish to.",
)
@click.option(
    "--backfill-endpoint",
    envvar=ENV_BACKFILL_ENDPOINT,
    default=DEFAULT_BACKFILL_ENDPOINT,
    show_default=True,
    help="Where to bind the ROUTER socket collectors' backfill DEALERs connect to.",
)
@symbols_option(
    "Symbols to store (records of any other symbol are rejected); also sizes the queue."
)
@click.option(
    "--retention-days",
    envvar=ENV_RETENTION_DAYS,
    type=int,
    default=WriterConfig.retention_seconds // DAY,
    show_default=True,
    help="Delete data older than this many days.",
)
@click.option(
    "--retention",
    envvar=ENV_RETENTION,
    default=None,
    help="Retention as a duration (7d, 36h, 90m, 30s); overrides --retention-days.",
)
@click.option(
    "--retention-interval",
    envvar=ENV_RETENTION_INTERVAL,
    default=f"{WriterConfig.retention_interval:.0f}s",
    show_default=True,
    help="How often old data is deleted (duration).",
)
@click.option(
    "--pending-capacity",
    envvar=ENV_PENDING_CAPACITY,
    type=int,
    default=WriterConfig.pending_capacity,
    help="Records held while the disk is unavailable [default: 20 min of --symbols].",
)
@log_level_option
@security_options
@metrics_options
def main(
    *,
    data_dir: str,
    ingest_endpoint: str,
    backfill_endpoint: str,
    symbols: str,
    retention_days: int,
    retention: str | None,
    retention_interval: str,
    pending_capacity: int,
    log_level: str,
    keys_dir: str | None,
    insecure: bool,
    metrics_port: int | None,
    metrics_base_port: int | None,
    metrics_host: str,
    metrics_public: bool,
) -> None:
    """Store one order-book snapshot per symbol per second in RocksDB.

    Example: python -m writer --data-dir ./data --retention-days 7
    """
    try:
        level = check_log_level("--log-level", log_level)
        config = WriterConfig(
            data_dir=Path(data_dir).expanduser(),
            ingest_endpoint=ingest_endpoint,
            backfill_endpoint=backfill_endpoint,
            symbols=parse_symbols("--symbols", symbols),
            retention_seconds=(
                parse_duration("--retention", retention) if retention else retention_days * DAY
            ),
            retention_interval=float(parse_duration("--retention-interval", retention_interval)),
            pending_capacity=pending_capacity,
            keys_dir=keys_dir,
            insecure=insecure,
        )
        metrics = metrics_config(
            "writer", metrics_port, metrics_base_port, metrics_host, metrics_public
        )
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    configure_logging(process="writer", level=level)
    cache_time_formatting()  # one Stored line per snapshot: tens of thousands a second at peak
    # Every record unpacks ~100 short-lived lists, and records wait in the pending queue: with the
    # default thresholds the cyclic GC runs every few records and rescans that queue. The
    # writer's data has no reference cycles, so collect far less often (measured ~20 % faster).
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    # The database is only the service's: new files 0600, the data folder 0700.
    use_private_umask()
    with contextlib.suppress(OSError):  # an unusable path is reported by the start-up open
        private_dir(config.data_dir)
    registry = new_registry()
    try:
        exporter = start_exporter(metrics, registry)  # None unless a metrics port is set
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    try:
        with stop_on_signals() as stop:
            try:
                writer = Writer.from_config(config)
            except ConfigError as exc:
                raise click.UsageError(str(exc)) from exc
            except zmq.ZMQError as exc:
                raise click.ClickException(f"cannot bind the writer's sockets: {exc}") from exc
            if exporter is not None:
                WriterMetrics(writer, registry)
            try:
                writer.run(stop)
            except DatabaseUnusable as exc:
                logging.getLogger("writer").error("%s; the writer cannot start", exc)
                sys.exit(1)
    finally:
        if exporter is not None:
            exporter.stop()


if __name__ == "__main__":
    main()
