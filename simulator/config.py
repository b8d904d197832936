"""The simulator's settings, validated once: an invalid value names its option."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shared.config import DEFAULT_SIM_HOST, DEFAULT_SIM_PORT, check_int_range, check_range
from shared.errors import ConfigError
from simulator.faults import Fault

DEFAULT_RECORDINGS = Path(__file__).resolve().parent / "recordings" / "hftbacktest" / "spot"
SOURCES = ("synthetic", "replay")

# environment variables (CLI → environment → default)


@dataclass(frozen=True)
class SimConfig:
    """Everything ``python -m simulator`` can be told."""

    symbols: tuple[str, ...]
    source: str = "synthetic"
    host: str = DEFAULT_SIM_HOST
    port: int = DEFAULT_SIM_PORT
    speed: float = 1.0
    seed: int = 1
    zipf: float = 0.0  # synthetic activity: k-th symbol 1/k**zipf as busy as the first
    recordings: Path = DEFAULT_RECORDINGS
    max_connection_seconds: float = 86_400.0
    ping_interval: float = 20.0
    pong_timeout: float = 60.0
    weight_limit: int = 6000
    ban_seconds: float = 120.0
    message_limit: int = 5
    summary_interval: float = 60.0
    faults: tuple[Fault, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ConfigError("--source", f"{self.source!r} is not one of {', '.join(SOURCES)}")
        check_int_range("--port", self.port, 0, 65535)
        check_range("--speed", self.speed, 0.01, 10_000)
        check_range("--zipf", self.zipf, 0.0, 10.0)
        check_range("--max-connection-seconds", self.max_connection_seconds, 0.1, 86_400 * 7)
        check_range("--ping-interval", self.ping_interval, 0.05, 3600)
        check_range("--pong-timeout", self.pong_timeout, 0.05, 3600)
        check_int_range("--weight-limit", self.weight_limit, 1, 10_000_000)
        check_range("--ban-seconds", self.ban_seconds, 0, 86_400)
        check_int_range("--message-limit", self.message_limit, 1, 10_000)
        check_range("--summary-interval", self.summary_interval, 1, 86_400)
        if not self.symbols:
            raise ConfigError("--symbols", "at least one symbol is needed")
        if self.source == "replay" and not self.recordings.is_dir():
            raise ConfigError("--recordings", f"{self.recordings} is not a directory")
