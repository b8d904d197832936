"""The whole pipeline as real OS processes: simulator, collector supervisor, writer, query.

Besides the ``pipeline`` fixture (the demo Procfile's processes on free ports and a temporary data
directory), this module holds what the fault drills share: ``start_pipeline`` with extra settings,
the simulator's admin fault API, the writer's ``Stored snapshot`` lines, coverage through the
query process, and a check that every stored book is sorted and uncrossed.
"""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from booksnap.client import QueryClient
from shared.codec import decode_book
from shared.storage import SNAPSHOTS_CF, db_path, iter_range, open_secondary
from tests.support.processes import Proc, stop_all
from tests.support.waiting import free_endpoint, free_port, poll_for

SYMBOLS = ("BTCUSDT", "ETHUSDT")
STORED = re.compile(r"Stored snapshot for (\w+) at (\d+)")


def stored_in(log: str) -> dict[str, set[int]]:
    """Every second each symbol was logged as stored in ``log``."""
    found: dict[str, set[int]] = {}
    for symbol, second in STORED.findall(log):
        found.setdefault(symbol, set()).add(int(second))
    return found


def ranges(seconds: Iterable[int]) -> list[tuple[int, int]]:
    """``{1, 2, 3, 7}`` → ``[(1, 3), (7, 7)]``, for readable failure messages."""
    out: list[tuple[int, int]] = []
    for second in sorted(seconds):
        if out and second == out[-1][1] + 1:
            out[-1] = (out[-1][0], second)
        else:
            out.append((second, second))
    return out


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

    # --- the drills' view of the pipeline -------------------------------------------------------

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self.env["BOOKSNAP_SYMBOLS"].split(","))

    @property
    def data_dir(self) -> Path:
        return Path(self.env["BOOKSNAP_DATA_DIR"])

    def log(self, name: str) -> str:
        """The whole log of ``name`` (restarts append to the same file)."""
        return self.procs[name].log()

    def fault(self, name: str, symbol: str | None = None, **params: Any) -> dict[str, Any]:
        """Inject a fault through the simulator's admin API (``POST /admin/fault``)."""
        body: dict[str, Any] = {"fault": name, **params}
        if symbol is not None:
            body["symbol"] = symbol
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.env['BOOKSNAP_SIM_PORT']}/admin/fault",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            result: dict[str, Any] = json.loads(response.read())
        assert result.get("ok"), result
        return result

    def stored(self) -> dict[str, set[int]]:
        """Every second the writer (all its runs) logged as stored, per symbol."""
        found = stored_in(self.log("writer"))
        return {symbol: found.get(symbol, set()) for symbol in self.symbols}

    def wait_stored_through(self, second: int, timeout: float = 45.0) -> None:
        """Wait until every symbol has a stored second at or after ``second``."""
        poll_for(
            lambda: all(max(s, default=0) >= second for s in self.stored().values()),
            timeout,
            interval=0.2,
            what=f"every symbol stored through {second}",
        )

    def missing(self, start: int, end: int) -> dict[str, list[int]]:
        """Seconds of ``start..end`` the writer never logged as stored, per symbol."""
        stored = self.stored()
        return {s: sorted(set(range(start, end + 1)) - stored[s]) for s in self.symbols}

    def coverage(self, symbol: str, start: int, end: int) -> dict[str, Any]:
        """The query process's ``coverage`` of ``start..end`` (inclusive)."""
        with QueryClient(self.env["BOOKSNAP_QUERY_ENDPOINT"], timeout=10) as client:
            result: dict[str, Any] = client.request(
                "coverage", {"symbol": symbol, "start": start, "end": end}
            )
        return result

    def coverage_missing(self, symbol: str, start: int, end: int) -> list[int]:
        """Missing seconds as the query process reports them."""
        result = self.coverage(symbol, start, end)
        return [s for r in result["missing"] for s in range(r["start"], r["end"] + 1)]

    def settle_coverage(self, start: int, end: int) -> dict[str, list[int]]:
        """Coverage through the query process, once it agrees with the writer's log.

        The query process reads a secondary instance that catches up on each request, and the
        writer logs a second only once it is durable, so both views must end up the same.
        """
        result: dict[str, list[int]] = {}

        def agree() -> bool:
            logged = self.missing(start, end)
            for symbol in self.symbols:
                result[symbol] = self.coverage_missing(symbol, start, end)
            return result == logged

        poll_for(agree, 30, interval=0.5, what=f"query coverage of {start}..{end} = writer log")
        # shown with ``pytest -s``: what each drill cost
        print(f"\n{start}..{end} lost: { {s: ranges(m) for s, m in result.items()} }")
        return result


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


def start_pipeline(
    root: Path,
    *,
    env: dict[str, str] | None = None,
    sim_args: Sequence[str] = (),
    data_dir: Path | None = None,
) -> Pipeline:
    """Start simulator, writer, query and collector supervisor; return once both symbols store."""
    settings = {**pipeline_env(root, free_port()), **(env or {})}
    if data_dir is not None:
        settings["BOOKSNAP_DATA_DIR"] = str(data_dir)
    pipe = Pipeline(root, settings)
    try:
        pipe.start("simulator", "simulator", *sim_args).wait_log("Simulator listening", timeout=30)
        pipe.start("writer", "writer")
        pipe.start("query", "query")
        pipe.start("collector", "collector")
        for symbol in pipe.symbols:
            pipe.procs["writer"].wait_log(f"Stored snapshot for {symbol} at", timeout=60)
    except BaseException:
        stop_all(list(pipe.procs.values()))
        raise
    return pipe


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """Start every process the way the demo Procfile does, on free ports and a temp data dir."""
    pipe = start_pipeline(tmp_path_factory.mktemp("pipeline"))
    try:
        yield pipe
    finally:
        stop_all(list(pipe.procs.values()))


# --- what a stored book must be ------------------------------------------------------------------


def book_problems(data_dir: Path, check_dir: Path, symbol: str, first: int, last: int) -> list[str]:
    """Why stored snapshots of ``first..last`` are wrong: unsorted, crossed, going backwards."""
    reader = open_secondary(db_path(data_dir), check_dir)
    problems: list[str] = []
    try:
        reader.try_catch_up_with_primary()
        family = reader.get_column_family(SNAPSHOTS_CF)
        last_update = 0
        for second, value in iter_range(family, symbol, first, last):
            snap = decode_book(value)
            bids = [price for price, _ in snap.bids]
            asks = [price for price, _ in snap.asks]
            if snap.symbol != symbol or snap.second != second:
                problems.append(f"{second}: key and record disagree ({snap.symbol} {snap.second})")
            if not bids or not asks:
                problems.append(f"{second}: an empty side")
                continue
            if bids != sorted(set(bids), reverse=True) or asks != sorted(set(asks)):
                problems.append(f"{second}: levels not strictly sorted")
            if bids[0] >= asks[0]:
                problems.append(f"{second}: crossed book, bid {bids[0]} >= ask {asks[0]}")
            if any(qty <= 0 for _, qty in (*snap.bids, *snap.asks)):
                problems.append(f"{second}: a level with a non-positive quantity")
            # Binance update ids only grow: a record older than the one before is a stale book
            if snap.update_id < last_update:
                problems.append(f"{second}: update id {snap.update_id} < {last_update}")
            last_update = snap.update_id
            # the book of second S was taken at the end of S, from data received by then
            if snap.ts_recv > (second + 1) * 1000 + 1000:
                problems.append(f"{second}: received at {snap.ts_recv} ms, after its second")
            # the depth stream updates every 100 ms: a book seconds old is a stale book
            if snap.ts_recv < (second + 1) * 1000 - 5000:
                problems.append(f"{second}: stale book, last event received at {snap.ts_recv}")
    finally:
        reader.close()
    return problems


def now_second() -> int:
    return int(time.time())
