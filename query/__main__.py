"""``python -m query`` / ``booksnap query``: serve analytics over the writer's database."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import click
import zmq

from query.config import QueryConfig, remove_stale_secondary_dirs
from query.metrics import QueryMetrics
from query.server import QueryServer
from shared.clock import SystemClock
from shared.config import (
    DEFAULT_DATA_DIR,
    DEFAULT_FEED_ENDPOINT,
    DEFAULT_LIVE_ENDPOINT,
    DEFAULT_QUERY_ENDPOINT,
    ENV_DATA_DIR,
    ENV_FEED_ENDPOINT,
    ENV_LIVE_ENDPOINT,
    ENV_QUERY_ENDPOINT,
    ENV_QUERY_WORKERS,
    ENV_REQUEST_DEADLINE,
    ENV_SECONDARY_DIR,
    field_default,
    log_level_option,
    parse_symbols,
    symbols_option,
)
from shared.errors import ConfigError
from shared.lifecycle import stop_on_signals
from shared.log import configure_logging
from shared.metrics import metrics_config, metrics_options, new_registry, start_exporter
from shared.private_files import use_private_umask
from shared.security import security_options


@click.command(name="query")
@click.option(
    "--data-dir",
    envvar=ENV_DATA_DIR,
    default=DEFAULT_DATA_DIR,
    show_default=True,
    help="Directory holding the writer's database (<data-dir>/rocksdb).",
)
@click.option(
    "--secondary-dir",
    envvar=ENV_SECONDARY_DIR,
    default=None,
    help="This process's own RocksDB secondary directory [default: "
    "<data-dir>/secondary-<pid>, removed on exit].",
)
@click.option(
    "--endpoint",
    envvar=ENV_QUERY_ENDPOINT,
    default=DEFAULT_QUERY_ENDPOINT,
    show_default=True,
    help="ROUTER endpoint to bind for JSON requests.",
)
@click.option(
    "--live-endpoint",
    envvar=ENV_LIVE_ENDPOINT,
    default=DEFAULT_LIVE_ENDPOINT,
    show_default=True,
    help="SUB endpoint to bind for the collectors' live books.",
)
@click.option(
    "--feed-endpoint",
    envvar=ENV_FEED_ENDPOINT,
    default=DEFAULT_FEED_ENDPOINT,
    show_default=True,
    help="PUB endpoint to bind that re-publishes the live stream.",
)
@click.option(
    "--workers",
    envvar=ENV_QUERY_WORKERS,
    type=int,
    default=field_default(QueryConfig, "workers"),
    show_default="one per core, at most 8",
    help="Database worker processes (each its own RocksDB secondary).",
)
@click.option(
    "--request-deadline",
    envvar=ENV_REQUEST_DEADLINE,
    type=float,
    default=field_default(QueryConfig, "request_deadline"),
    show_default=True,
    help="Seconds a database request may run; then it gets an error and its worker restarts.",
)
@symbols_option("Symbols whose live books are kept (others are rejected).")
@log_level_option
@security_options
@metrics_options
def main(  # noqa: PLR0917  (click passes every option by keyword anyway)
    data_dir: str,
    secondary_dir: str | None,
    endpoint: str,
    live_endpoint: str,
    feed_endpoint: str,
    symbols: str,
    workers: int,
    request_deadline: float,
    log_level: str,
    keys_dir: str | None,
    insecure: bool,
    metrics_port: int | None,
    metrics_base_port: int | None,
    metrics_host: str,
    metrics_public: bool,
) -> None:
    """Answer analytics and live order-book requests (read-only; run the writer beside it).

    \b
    Example:
        booksnap query --data-dir ./data
        booksnap l1 BTCUSDT          # from another terminal
    """
    try:
        config = QueryConfig(
            data_dir=Path(data_dir),
            secondary_dir=Path(secondary_dir or QueryConfig.default_secondary_dir(Path(data_dir))),
            query_endpoint=endpoint,
            live_endpoint=live_endpoint,
            feed_endpoint=feed_endpoint,
            log_level=log_level.upper(),
            remove_secondary_dir=secondary_dir is None,
            keys_dir=keys_dir,
            insecure=insecure,
            symbols=parse_symbols("--symbols", symbols),
            workers=workers,
            request_deadline=request_deadline,
        )
        metrics = metrics_config(
            "query", metrics_port, metrics_base_port, metrics_host, metrics_public
        )
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    configure_logging(process="query", level=config.log_level)
    use_private_umask()  # the secondary's files: 0600, its folder 0700
    if config.remove_secondary_dir:
        for stale in remove_stale_secondary_dirs(config.data_dir):
            logging.getLogger("query").info("removed %s, left by a killed query process", stale)
    registry = new_registry()
    try:
        exporter = start_exporter(metrics, registry)  # None unless a metrics port is set
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    try:
        with stop_on_signals() as stop:
            try:
                server = QueryServer.from_config(config, context, SystemClock())
            except zmq.ZMQError as exc:
                raise click.ClickException(f"cannot bind the query sockets: {exc}") from exc
            except ConfigError as exc:
                raise click.UsageError(str(exc)) from exc
            if exporter is not None:
                QueryMetrics(server, config.symbols, registry)
            server.run(stop)
    finally:
        if exporter is not None:
            exporter.stop()
        context.destroy(linger=0)
        if config.remove_secondary_dir:
            shutil.rmtree(config.secondary_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
