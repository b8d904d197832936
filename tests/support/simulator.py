"""Start the simulator as a real OS process on a free port, and talk to its admin API.

    with SimulatorProcess(tmp_path, symbols=("BTCUSDT",), source="replay", speed=20) as sim:
        urllib.request.urlopen(f"{sim.rest_url}/api/v3/depth?symbol=BTCUSDT")
        sim.fault("gap", symbol="BTCUSDT", count=1)
        sim.state()["symbols"]["BTCUSDT"]["last_update_id"]

or, in a test module, ``simulator = simulator_fixture(symbols=("BTCUSDT",))`` at module level
gives a function-scoped fixture named ``simulator``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import Proc
from tests.support.waiting import free_port, poll_for

LISTENING = "Simulator listening on"


class SimulatorProcess:
    """One ``python -m simulator`` process; ``start()`` returns once it listens."""

    def __init__(
        self,
        log_dir: Path,
        symbols: Sequence[str] = ("BTCUSDT",),
        source: str = "synthetic",
        speed: float = 1.0,
        extra_args: Sequence[str] = (),
        name: str = "simulator",
        startup_timeout: float = 30.0,
    ) -> None:
        self.log_dir = Path(log_dir)
        self.symbols = tuple(symbols)
        self.source = source
        self.speed = speed
        self.extra_args = list(extra_args)
        self.name = name
        self.startup_timeout = startup_timeout
        self.port = 0
        self.proc: Proc | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> SimulatorProcess:
        """Start on a free port (retrying if another process took it first)."""
        for attempt in range(3):
            self.port = free_port()
            args = [
                "--port",
                str(self.port),
                "--symbols",
                ",".join(self.symbols),
                "--source",
                self.source,
                "--speed",
                str(self.speed),
                *self.extra_args,
            ]
            log_path = self.log_dir / f"{self.name}-{self.port}-{attempt}.log"
            self.proc = Proc("simulator", args, log_path).start()
            poll_for(
                self._started_or_dead,
                self.startup_timeout,
                what=f"{LISTENING!r} in {log_path}",
            )
            if LISTENING in self.proc.log():
                return self
            if "address already in use" not in self.proc.log().lower():
                break
        assert self.proc is not None
        raise AssertionError(f"simulator did not start:\n{self.proc.log()[-3000:]}")

    def _started_or_dead(self) -> bool:
        assert self.proc is not None
        return LISTENING in self.proc.log() or not self.proc.alive()

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM and wait; returns the exit code (0 after a clean shutdown)."""
        return self.proc.stop(timeout) if self.proc is not None else 0

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- addresses ----------------------------------------------------------------------------

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/admin"

    def log(self) -> str:
        return self.proc.log() if self.proc is not None else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.alive()

    # --- admin --------------------------------------------------------------------------------

    def fault(self, name: str, symbol: str | None = None, **params: Any) -> dict[str, Any]:
        """Inject a fault (``gap``, ``disconnect``, ``stall``, ``malformed``, ``rest_error``,
        ``slow_rest``, ``server_shutdown``, ``clear``); AssertionError if it is refused."""
        body: dict[str, Any] = {"fault": name, **params}
        if symbol is not None:
            body["symbol"] = symbol
        request = urllib.request.Request(
            f"{self.admin_url}/fault",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                result: dict[str, Any] = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"fault {body} refused: {exc.read()!r}") from exc
        return result

    def state(self) -> dict[str, Any]:
        """``GET /admin/state``."""
        with urllib.request.urlopen(f"{self.admin_url}/state", timeout=10) as response:
            result: dict[str, Any] = json.loads(response.read())
        return result


def simulator_fixture(
    symbols: Sequence[str] = ("BTCUSDT",),
    source: str = "synthetic",
    speed: float = 1.0,
    extra_args: Sequence[str] = (),
    scope: str = "function",
) -> Callable[..., Any]:
    """A pytest fixture that yields a started SimulatorProcess and stops it afterwards."""

    @pytest.fixture(scope=scope)  # type: ignore[call-overload]
    def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
        sim = SimulatorProcess(
            tmp_path_factory.mktemp("simulator"), symbols, source, speed, extra_args
        ).start()
        try:
            yield sim
        finally:
            sim.stop()

    return simulator
