"""``python -m collector``: the supervisor, or with ``--symbol`` one symbol's collector."""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Callable

import click

from collector.children import ExecLauncher, ForkLauncher, Launcher
from collector.config import CollectorConfig, SupervisorConfig
from collector.metrics import SupervisorMetrics
from collector.process import run_collector
from collector.supervisor import Supervisor
from shared import config as env
from shared.config import field_default
from shared.curve_keys import load_keyring
from shared.errors import ConfigError
from shared.lifecycle import stop_on_signals
from shared.log import configure_logging
from shared.metrics import (
    MetricsConfig,
    metrics_config,
    metrics_options,
    new_registry,
    start_exporter,
)

log = logging.getLogger("collector")


@click.command()
@click.option("--symbol", default=None, help="Run one symbol's collector, e.g. BTCUSDT.")
@env.symbols_option("Without --symbol: the symbols to supervise.")
@click.option(
    "--rest-url", envvar=env.ENV_REST_URL, default=env.DEFAULT_REST_URL, show_default=True
)
@click.option("--ws-url", envvar=env.ENV_WS_URL, default=env.DEFAULT_WS_URL, show_default=True)
@click.option(
    "--ingest-endpoint",
    envvar=env.ENV_INGEST_ENDPOINT,
    default=env.DEFAULT_INGEST_ENDPOINT,
    show_default=True,
)
@click.option(
    "--live-endpoint",
    envvar=env.ENV_LIVE_ENDPOINT,
    default=env.DEFAULT_LIVE_ENDPOINT,
    show_default=True,
)
@click.option(
    "--backfill-endpoint",
    envvar=env.ENV_BACKFILL_ENDPOINT,
    default=env.DEFAULT_BACKFILL_ENDPOINT,
    show_default=True,
)
@click.option(
    "--levels",
    envvar=env.ENV_LEVELS,
    type=int,
    default=field_default(CollectorConfig, "levels"),
    show_default=True,
    help="Levels per side in each once-a-second record.",
)
@click.option(
    "--live-levels",
    envvar=env.ENV_LIVE_LEVELS,
    type=int,
    default=field_default(CollectorConfig, "live_levels"),
    show_default=True,
)
@click.option(
    "--live-interval",
    envvar=env.ENV_LIVE_INTERVAL,
    type=float,
    default=field_default(CollectorConfig, "live_interval"),
    show_default=True,
    help="Seconds between live books (book.<SYM>), at most; one is sent only after a change.",
)
@click.option(
    "--snapshot-depth",
    envvar=env.ENV_SNAPSHOT_DEPTH,
    type=int,
    default=field_default(CollectorConfig, "snapshot_depth"),
    show_default=True,
    help="Most levels a REST snapshot asks for (it starts at 100 and deepens as needed).",
)
@click.option(
    "--watchdog-seconds",
    envvar=env.ENV_WATCHDOG,
    type=float,
    default=field_default(CollectorConfig, "watchdog_seconds"),
    show_default=True,
    help="Replace a connection silent this long.",
)
@click.option(
    "--max-connection-age",
    envvar=env.ENV_MAX_CONNECTION_AGE,
    type=float,
    default=field_default(CollectorConfig, "max_connection_age"),
    show_default=True,
    help="Seconds; replace a connection before Binance's 24 h cut.",
)
@click.option(
    "--trade-grace",
    envvar=env.ENV_TRADE_GRACE,
    type=float,
    default=field_default(CollectorConfig, "trade_grace"),
    show_default=True,
    help="Seconds after a second's end before its record is sent.",
)
@click.option(
    "--ping-after",
    envvar=env.ENV_PING_AFTER,
    type=float,
    default=field_default(CollectorConfig, "ping_after"),
    show_default=True,
    help="Seconds after a second's end when a quiet connection is pinged to vouch for it.",
)
@click.option(
    "--pong-timeout",
    envvar=env.ENV_PONG_TIMEOUT,
    type=float,
    default=field_default(CollectorConfig, "pong_timeout"),
    show_default=True,
    help="Seconds a second may wait to be vouched for (frame or pong) before it gets no record.",
)
@click.option(
    "--selfcheck-every",
    envvar=env.ENV_SELFCHECK_EVERY,
    type=float,
    default=field_default(CollectorConfig, "selfcheck_every"),
    show_default=True,
    help="Seconds between self-checks of the book against @bookTicker (0: off).",
)
@click.option(
    "--selfcheck-window",
    envvar=env.ENV_SELFCHECK_WINDOW,
    type=float,
    default=field_default(CollectorConfig, "selfcheck_window"),
    show_default=True,
    help="Seconds each self-check samples @bookTicker.",
)
@click.option(
    "--rest-weight-budget",
    envvar=env.ENV_REST_WEIGHT_BUDGET,
    type=int,
    default=field_default(CollectorConfig, "rest_weight_budget"),
    show_default=True,
    help="REST weight per minute for all collectors of this host together (Binance: 6000/IP).",
)
@click.option(
    "--rest-budget-file",
    envvar=env.ENV_REST_BUDGET_FILE,
    default=field_default(CollectorConfig, "rest_budget_file"),
    help="The host's shared weight bucket (default: one file per REST host in /dev/shm).",
)
@click.option(
    "--buffer-seconds",
    envvar=env.ENV_BUFFER_SECONDS,
    type=int,
    default=field_default(CollectorConfig, "buffer_seconds"),
    show_default=True,
    help="Records kept for the writer's backfill.",
)
@click.option(
    "--summary-interval",
    envvar=env.ENV_SUMMARY_INTERVAL,
    type=float,
    default=field_default(CollectorConfig, "summary_interval"),
    show_default=True,
)
@click.option(
    "--reconnect-max",
    envvar=env.ENV_RECONNECT_MAX,
    type=float,
    default=field_default(CollectorConfig, "reconnect_max"),
    show_default=True,
    help="Cap of the reconnect backoff, seconds.",
)
@click.option(
    "--restart-max",
    envvar=env.ENV_RESTART_MAX,
    type=float,
    default=field_default(SupervisorConfig, "restart_max"),
    show_default=True,
    help="Supervisor: cap of the restart backoff, seconds.",
)
@click.option(
    "--children",
    envvar=env.ENV_COLLECTOR_CHILDREN,
    type=click.Choice(["fork", "exec"]),
    default="fork",
    show_default=True,
    help="Supervisor: fork each symbol's collector from itself (shares its imports), or exec "
    "a fresh interpreter per symbol. With a metrics port the children are exec'd.",
)
@env.log_level_option
@click.option(
    "--keys-dir",
    envvar=env.ENV_KEYS_DIR,
    default=None,
    help="CURVE keys from `booksnap keys init` (unset: plain sockets; the writer and query "
    "process then accept only loopback peers).",
)
@metrics_options
def main(
    *,
    symbol: str | None,
    symbols: str,
    restart_max: float,
    children: str,
    log_level: str,
    metrics_port: int | None,
    metrics_base_port: int | None,
    metrics_host: str,
    metrics_public: bool,
    **options: object,
) -> None:
    """Keep exact Binance order books and publish one snapshot per symbol per second.

    Example: BOOKSNAP_SYMBOLS=BTCUSDT,ETHUSDT python -m collector
    """
    try:
        supervisor = SupervisorConfig(
            symbols=env.parse_symbols("--symbols", symbols), restart_max=restart_max
        )
        # In supervisor mode this validates the options the children will get, once, up front.
        config = CollectorConfig(
            symbol=symbol or supervisor.symbols[0],
            log_level=log_level,
            **options,  # type: ignore[arg-type]
        )
        metrics = metrics_config(
            "collector", metrics_port, metrics_base_port, metrics_host, metrics_public
        )
        if config.keys_dir:  # checked once, up front: a child would only fail and be restarted
            load_keyring(config.keys_dir, "collector")
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    if symbol is None:
        configure_logging("collector", "supervisor", log_level)
        forwarded = [f"--log-level={log_level}"]
        forwarded += [
            f"--{name.replace('_', '-')}={value}"
            for name, value in options.items()
            if value is not None  # an unset option is left to the child's default
        ]
        registry = new_registry()
        try:
            exporter = start_exporter(metrics, registry)  # None unless a metrics port is set
        except ConfigError as exc:
            raise click.UsageError(str(exc)) from exc
        launch: Launcher
        if children == "fork" and exporter is None:
            launch = ForkLauncher(_for_symbol(config, metrics))
        else:
            # prometheus-client's multiprocess mode is chosen when it is imported: children
            # that export through the supervisor's folder must start as fresh interpreters.
            launch = ExecLauncher((sys.executable, "-m", "collector"), forwarded)
        supervising = Supervisor(supervisor, launch)
        exported = SupervisorMetrics(supervising, registry) if exporter is not None else None
        if exported is not None and isinstance(launch, ExecLauncher):
            launch.env = exported.child_env
        try:
            with stop_on_signals() as stop:
                supervising.run(stop)
        finally:
            if exporter is not None:
                exporter.stop()
            if exported is not None:
                exported.close()
        return
    sys.exit(run_collector(config, metrics))


def _for_symbol(config: CollectorConfig, metrics: MetricsConfig) -> Callable[[str], int]:
    """A forked child's work: the supervisor's validated options, with its own symbol."""
    return lambda symbol: run_collector(dataclasses.replace(config, symbol=symbol), metrics)


if __name__ == "__main__":
    main()
