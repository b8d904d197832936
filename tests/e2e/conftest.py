"""The whole pipeline as real OS processes: simulator, collector supervisor, writer, query."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.processes import Proc, stop_all
from tests.support.waiting import free_endpoint, free_port

SYMBOLS = ("BTCUSDT", "ETHUSDT")


@dataclass
class Pipeline:
    """Handles on the running processes and the environment they share."""

    root: Path
    env: dict[str, str]
    procs: dict[str, Proc] = field(default_factory=dict)

    def start(self, name: str, module: str, *args: str) -> Proc:
        proc = Proc(module, args, self.root / f"{name}.log", env=self.env).start()
        self.procs[name] = proc
        return proc

    def restart(self, name: str) -> Proc:
        old = self.procs[name]
        return self.start(name, old.module, *old.args)

    def cli(self) -> list[str]:
        """The ``booksnap`` console command of this virtualenv."""
        return [str(Path(sys.executable).parent / "booksnap")]


def pipeline_env(root: Path, sim_port: int) -> dict[str, str]:
    return {
        "BOOKSNAP_SYMBOLS": ",".join(SYMBOLS),
        "BOOKSNAP_DATA_DIR": str(root / "data"),
        "BOOKSNAP_SIM_PORT": str(sim_port),
        "BOOKSNAP_SIM_SOURCE": "replay",
        "BOOKSNAP_REST_URL": f"http://127.0.0.1:{sim_port}",
        "BOOKSNAP_WS_URL": f"ws://127.0.0.1:{sim_port}",
        "BOOKSNAP_INGEST_ENDPOINT": free_endpoint(),
        "BOOKSNAP_BACKFILL_ENDPOINT": free_endpoint(),
        "BOOKSNAP_LIVE_ENDPOINT": free_endpoint(),
        "BOOKSNAP_QUERY_ENDPOINT": free_endpoint(),
        "BOOKSNAP_FEED_ENDPOINT": free_endpoint(),
        "BOOKSNAP_LOG_LEVEL": "INFO",
    }


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """Start every process the way the demo Procfile does, on free ports and a temp data dir."""
    root = tmp_path_factory.mktemp("pipeline")
    pipe = Pipeline(root, pipeline_env(root, free_port()))
    try:
        pipe.start("simulator", "simulator").wait_log("Simulator listening", timeout=30)
        pipe.start("writer", "writer")
        pipe.start("query", "query")
        pipe.start("collector", "collector")
        for symbol in SYMBOLS:
            pipe.procs["writer"].wait_log(f"Stored snapshot for {symbol} at", timeout=60)
        yield pipe
    finally:
        stop_all(list(pipe.procs.values()))
