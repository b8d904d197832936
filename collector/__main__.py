"""``python -m collector``: the supervisor, or with ``--symbol`` one symbol's collector."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable

import click

from collector.children import ExecLauncher, ForkLauncher, Launcher
from collector.config import (
    ENV_BUFFER_SECONDS,
    ENV_LEVELS,
    ENV_LIVE_INTERVAL,
    ENV_LIVE_LEVELS,
    ENV_MAX_CONNECTION_AGE,
    ENV_PING_AFTER,
    ENV_PONG_TIMEOUT,
    ENV_REST_BUDGET_FILE,
    ENV_REST_WEIGHT_BUDGET,
    ENV_SELFCHECK_EVERY,
    ENV_SELFCHECK_WINDOW,
    ENV_SNAPSHOT_DEPTH,
    ENV_SUMMARY_INTERVAL,
    ENV_TRADE_GRACE,
    ENV_WATCHDOG,
    CollectorConfig,
    SupervisorConfig,
)
from collector.process import run_collector
from collector.supervisor import Supervisor
from shared import config as env
from shared.errors import ConfigError
from shared.lifecycle import stop_on_signals
from shared.log import configure_logging


@click.command()
@click.option("--symbol", default=None, help="Run one symbol's collector, e.g. BTCUSDT.")
@click.option(
    "--symbols",
    envvar=env.ENV_SYMBOLS,
    default=",".join(env.DEFAULT_SYMBOLS),
    show_default=True,
    help="Without --symbol: the symbols to supervise.",
)
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
    envvar=ENV_LEVELS,
    type=int,
    default=20,
    show_default=True,
    help="Levels per side in each once-a-second record.",
)
@click.option("--live-levels", envvar=ENV_LIVE_LEVELS, type=int, default=100, show_default=True)
@click.option(
    "--live-interval",
    envvar=ENV_LIVE_INTERVAL,
    type=float,
    default=CollectorConfig.__dataclass_fields__["live_interval"].default,
    show_default=True,
    help="Seconds between live books (book.<SYM>), at most; one is sent only after a change.",
)
@click.option(
    "--snapshot-depth",
    envvar=ENV_SNAPSHOT_DEPTH,
    type=int,
    default=1000,
    show_default=True,
    help="Most levels a REST snapshot asks for (it starts at 100 and deepens as needed).",
)
@click.option(
    "--watchdog-seconds",
    envvar=ENV_WATCHDOG,
    type=float,
    default=10.0,
    show_default=True,
    help="Replace a connection silent this long.",
)
@click.option(
    "--max-connection-age",
    envvar=ENV_MAX_CONNECTION_AGE,
    type=float,
    default=23 * 3600 + 50 * 60,
    show_default=True,
    help="Seconds; replace a connection before Binance's 24 h cut.",
)
@click.option(
    "--trade-grace",
    envvar=ENV_TRADE_GRACE,
    type=float,
    default=0.25,
    show_default=True,
    help="Seconds after a second's end before its record is sent.",
)
@click.option(
    "--ping-after",
    envvar=ENV_PING_AFTER,
    type=float,
    default=0.1,
    show_default=True,
    help="Seconds after a second's end when a quiet connection is pinged to vouch for it.",
)
@click.option(
    "--pong-timeout",
    envvar=ENV_PONG_TIMEOUT,
    type=float,
    default=1.0,
    show_default=True,
    help="Seconds a second may wait to be vouched for (frame or pong) before it gets no record.",
)
@click.option(
    "--selfcheck-every",
    envvar=ENV_SELFCHECK_EVERY,
    type=float,
    default=600.0,
    show_default=True,
    help="Seconds between self-checks of the book against @bookTicker (0: off).",
)
@click.option(
    "--selfcheck-window",
    envvar=ENV_SELFCHECK_WINDOW,
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds each self-check samples @bookTicker.",
)
@click.option(
    "--rest-weight-budget",
    envvar=ENV_REST_WEIGHT_BUDGET,
    type=int,
    default=4800,
    show_default=True,
    help="REST weight per minute for all collectors of this host together (Binance: 6000/IP).",
)
@click.option(
    "--rest-budget-file",
    envvar=ENV_REST_BUDGET_FILE,
    default="",
    help="The host's shared weight bucket (default: one file per REST host in /dev/shm).",
)
@click.option(
    "--buffer-seconds",
    envvar=ENV_BUFFER_SECONDS,
    type=int,
    default=900,
    show_default=True,
    help="Records kept for the writer's backfill.",
)
@click.option(
    "--summary-interval", envvar=ENV_SUMMARY_INTERVAL, type=float, default=60.0, show_default=True
)
@click.option(
    "--reconnect-max",
    envvar="BOOKSNAP_RECONNECT_MAX",
    type=float,
    default=30.0,
    show_default=True,
    help="Cap of the reconnect backoff, seconds.",
)
@click.option(
    "--restart-max",
    envvar="BOOKSNAP_RESTART_MAX",
    type=float,
    default=30.0,
    show_default=True,
    help="Supervisor: cap of the restart backoff, seconds.",
)
@click.option(
    "--children",
    envvar="BOOKSNAP_COLLECTOR_CHILDREN",
    type=click.Choice(["fork", "exec"]),
    default="fork",
    show_default=True,
    help="Supervisor: fork each symbol's collector from itself (shares its imports), or exec "
    "a fresh interpreter per symbol.",
)
@click.option("--log-level", envvar=env.ENV_LOG_LEVEL, default="INFO", show_default=True)
def main(
    symbol: str | None,
    symbols: str,
    restart_max: float,
    children: str,
    log_level: str,
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
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    if symbol is None:
        configure_logging("collector", "supervisor", log_level)
        launch: Launcher
        if children == "fork":
            launch = ForkLauncher(_for_symbol(config))
        else:
            forwarded = [f"--log-level={log_level}"]
            forwarded += [f"--{name.replace('_', '-')}={value}" for name, value in options.items()]
            launch = ExecLauncher((sys.executable, "-m", "collector"), forwarded)
        with stop_on_signals() as stop:
            Supervisor(supervisor, launch).run(stop)
        return
    sys.exit(run_collector(config))


def _for_symbol(config: CollectorConfig) -> Callable[[str], int]:
    """A forked child's work: the supervisor's validated options, with its own symbol."""
    return lambda symbol: run_collector(dataclasses.replace(config, symbol=symbol))


if __name__ == "__main__":
    main()
