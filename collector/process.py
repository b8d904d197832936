"""One symbol's collector as the whole of a process: logging, ZeroMQ context, signals, exit code.

The same for ``python -m collector --symbol X`` and for a child forked by the supervisor.
"""

from __future__ import annotations

import logging
import os

import zmq

from collector.config import CollectorConfig
from collector.metrics import start_child_metrics
from collector.service import Collector
from shared.errors import ConfigError
from shared.lifecycle import stop_on_signals
from shared.log import configure_logging
from shared.metrics import MetricsConfig

log = logging.getLogger("collector")


def run_collector(config: CollectorConfig, metrics: MetricsConfig) -> int:
    """Run until SIGTERM/SIGINT; 0 after a clean stop, 1 after a failure (it is logged)."""
    configure_logging("collector", config.symbol, config.log_level)
    try:
        counting, exporter = start_child_metrics(config.symbol, metrics, os.environ)
    except ConfigError as exc:
        log.error("%s", exc)
        return 2
    # One I/O thread is ZeroMQ's default and all a collector needs (its sockets are few and
    # idle most of the time); the context is made here, after any fork, never inherited.
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    try:
        with stop_on_signals() as stop:
            collector = Collector.from_config(config, context)
            collector.metrics = counting
            collector.run(stop)
    except Exception:
        # Anything not recovered where it happened ends the process; the supervisor restarts it.
        log.exception("collector %s failed", config.symbol)
        return 1
    finally:
        context.destroy(linger=0)  # closes only sockets left open by a failure
        if exporter is not None:
            exporter.stop()
    log.info("stopped")
    return 0
