"""``python -m simulator``: a local Binance-Spot-compatible exchange (REST + WebSocket)."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import click

from shared import config as env
from shared.config import (
    DEFAULT_SYMBOLS,
    ENV_SYMBOLS,
    check_log_level,
    field_default,
    log_level_option,
    parse_symbols,
)
from shared.errors import ConfigError
from shared.lifecycle import stop_on_signals
from shared.log import configure_logging
from simulator import config as cfg
from simulator.faults import FaultError, parse_fault_option
from simulator.market import MarketSource
from simulator.recordings import RecordingError, load_recording
from simulator.replay import ReplaySource
from simulator.server import SimulatorServer
from simulator.synthetic_source import SyntheticSource

log = logging.getLogger("simulator")


@click.command()
@click.option(
    "--port",
    type=int,
    default=field_default(cfg.SimConfig, "port"),
    envvar=env.ENV_SIM_PORT,
    show_default=True,
)
@click.option(
    "--host",
    default=field_default(cfg.SimConfig, "host"),
    envvar=env.ENV_SIM_HOST,
    show_default=True,
)
@click.option(
    "--symbols",
    default=",".join(DEFAULT_SYMBOLS),
    envvar=[env.ENV_SIM_SYMBOLS, ENV_SYMBOLS],
    show_default=True,
    help="Comma-separated symbols to serve.",
)
@click.option(
    "--source",
    type=click.Choice(cfg.SOURCES),
    default=field_default(cfg.SimConfig, "source"),
    envvar=env.ENV_SIM_SOURCE,
    show_default=True,
)
@click.option(
    "--speed",
    type=float,
    default=field_default(cfg.SimConfig, "speed"),
    envvar=env.ENV_SIM_SPEED,
    show_default=True,
    help="Replay speed (2.0 = twice real time).",
)
@click.option(
    "--seed",
    type=int,
    default=field_default(cfg.SimConfig, "seed"),
    envvar=env.ENV_SIM_SEED,
    show_default=True,
)
@click.option(
    "--zipf",
    type=float,
    default=field_default(cfg.SimConfig, "zipf"),
    envvar=env.ENV_SIM_ZIPF,
    show_default=True,
    help="Synthetic: the k-th symbol is 1/k**ZIPF as busy as the first (0: all equally busy).",
)
@click.option(
    "--recordings",
    type=click.Path(path_type=Path),
    default=cfg.DEFAULT_RECORDINGS,
    envvar=env.ENV_SIM_RECORDINGS,
    help="Directory of <symbol>_<date>.gz recordings.",
)
@click.option(
    "--max-connection-seconds",
    type=float,
    default=field_default(cfg.SimConfig, "max_connection_seconds"),
    envvar=env.ENV_SIM_MAX_CONNECTION_SECONDS,
    show_default=True,
)
@click.option(
    "--ping-interval",
    type=float,
    default=field_default(cfg.SimConfig, "ping_interval"),
    envvar=env.ENV_SIM_PING_INTERVAL,
    show_default=True,
)
@click.option(
    "--pong-timeout",
    type=float,
    default=field_default(cfg.SimConfig, "pong_timeout"),
    envvar=env.ENV_SIM_PONG_TIMEOUT,
    show_default=True,
)
@click.option(
    "--weight-limit",
    type=int,
    default=field_default(cfg.SimConfig, "weight_limit"),
    envvar=env.ENV_SIM_WEIGHT_LIMIT,
    show_default=True,
    help="REST request weight per IP per minute.",
)
@click.option(
    "--ban-seconds",
    type=float,
    default=field_default(cfg.SimConfig, "ban_seconds"),
    envvar=env.ENV_SIM_BAN_SECONDS,
    show_default=True,
    help="How long a client that ignores 429s gets 418.",
)
@click.option(
    "--message-limit",
    type=int,
    default=field_default(cfg.SimConfig, "message_limit"),
    envvar=env.ENV_SIM_MESSAGE_LIMIT,
    show_default=True,
    help="Incoming WebSocket messages per second per connection.",
)
@click.option(
    "--summary-interval",
    type=float,
    default=field_default(cfg.SimConfig, "summary_interval"),
    envvar=env.ENV_SIM_SUMMARY_INTERVAL,
    show_default=True,
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    envvar=env.ENV_SIM_FAULTS,
    help="Inject at start, e.g. gap:BTCUSDT:count=1 (repeatable).",
)
@log_level_option
def main(
    symbols: str, source: str, faults: tuple[str, ...], log_level: str, **options: object
) -> None:
    """Run a Binance-Spot-compatible exchange on 127.0.0.1 (REST, WebSocket streams, admin).

    \b
    Example:  python -m simulator --source replay --speed 10 --symbols BTCUSDT,ETHUSDT
              curl -XPOST localhost:9100/admin/fault -d '{"fault":"gap","symbol":"BTCUSDT"}'
    """
    try:
        level = check_log_level("--log-level", log_level)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    configure_logging(process="simulator", level=level)
    try:
        config = cfg.SimConfig(
            symbols=parse_symbols("--symbols", symbols),
            source=source,
            faults=tuple(parse_fault_option(f) for f in faults),
            **options,  # type: ignore[arg-type]
        )
        market = build_source(config)
    except (ConfigError, FaultError, RecordingError) as exc:
        raise click.UsageError(str(exc)) from exc
    with stop_on_signals() as stop:
        try:
            asyncio.run(SimulatorServer(config, market).run(stop))
        except (OSError, UnicodeError) as exc:  # the address is taken, unknown or not ours
            raise click.ClickException(
                f"cannot listen on {config.host[:60]}:{config.port}: {exc}"
            ) from None


def build_source(config: cfg.SimConfig) -> MarketSource:
    """The synthetic market, or the recordings loaded for replay."""
    if config.source == "synthetic":
        return SyntheticSource(config.symbols, config.seed, int(time.time() * 1000), config.zipf)
    recordings = []
    for symbol in config.symbols:
        recording = load_recording(config.recordings, symbol)
        log.info(
            "Loaded %s: %d events from %s",
            symbol,
            len(recording.timeline),
            ", ".join(recording.files),
        )
        recordings.append(recording)
    return ReplaySource(recordings, config.speed, int(time.time() * 1000))


if __name__ == "__main__":
    main()
