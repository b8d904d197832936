"""A client following Binance's local-book procedure stays exactly in sync with the simulator."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest

from tests.integration.simulator.book_client import BookClient, fetch_json, snapshot_levels
from tests.support.simulator import SimulatorProcess
from tests.support.waiting import poll_for


def expected_checkpoints(files: list[Path]) -> set[int]:
    """bookTicker ids that are also the ``u`` of an applied depth event, read straight from
    the recordings (independently of the simulator's own parser)."""
    snapshot_id, depth_ids, ticker_ids = None, set(), set()
    for path in files:
        with gzip.open(path, "rt") as handle:
            for line in handle:
                record = json.loads(line.split(" ", 1)[1])
                if "lastUpdateId" in record:
                    snapshot_id = snapshot_id or record["lastUpdateId"]
                elif record["stream"].endswith("@depth@100ms"):
                    depth_ids.add(record["data"]["u"])
                elif record["stream"].endswith("@bookTicker"):
                    ticker_ids.add(record["data"]["u"])
    assert snapshot_id is not None
    return {u for u in depth_ids & ticker_ids if u > snapshot_id}


def original_ids(ids: list[int], state: dict) -> set[int]:
    """Map ids of any loop back to the recording's own ids."""
    period, first = state["update_id_period"], state["recording_first_update_id"]
    return {first + (u - first) % period if period else u for u in ids}


def compare_with_rest(sim: SimulatorProcess, client: BookClient, symbol: str, limit: int) -> int:
    """Fetch a REST snapshot and check it equals the client's book at the same update id."""
    _, _, snap = fetch_json(f"{sim.rest_url}/api/v3/depth?symbol={symbol}&limit={limit}")
    target = snap["lastUpdateId"]
    poll_for(
        lambda: client.last_u is not None and client.last_u >= target,
        20,
        what=f"client past update id {target}",
    )
    assert client.history[target] == snapshot_levels(snap, limit)
    return target


@pytest.mark.parametrize(
    "duration", [pytest.param(20, id="20s"), pytest.param(180, id="180s", marks=pytest.mark.slow)]
)
def test_synthetic_market_stays_in_sync(tmp_path, duration):
    symbols = ("BTCUSDT", "ETHUSDT")
    with SimulatorProcess(tmp_path, symbols=symbols, source="synthetic") as sim:
        clients = [
            BookClient(
                sim.rest_url,
                sim.ws_url,
                s,
                book_ticker=True,
                snapshot_limit=1000,
                record_levels=1000,
            ).start()
            for s in symbols
        ]
        try:
            deadline = time.monotonic() + duration
            checked = 0
            while time.monotonic() < deadline:
                time.sleep(min(3.0, max(0.0, deadline - time.monotonic())))
                for symbol, client in zip(symbols, clients, strict=False):
                    if client.synced:
                        compare_with_rest(sim, client, symbol, 1000)
                        checked += 1
        finally:
            for client in clients:
                client.stop()
    for client in clients:
        assert client.errors == []
        assert client.syncs == 1
        assert client.gaps == 0
        assert client.synced
        assert client.crossed == 0
        assert client.applied >= duration * 8  # ~10 depth events a second
        assert client.checkpoints_bad == []
        assert len(client.checkpoints_ok) >= duration * 3
        bids, asks = client.levels(1000)
        assert len(bids) >= 500
        assert len(asks) >= 500
    assert checked >= 2 * (duration // 3) - 2


def test_replay_matches_every_book_ticker_checkpoint_of_btcusdt(tmp_path, recordings):
    expected = expected_checkpoints(sorted(recordings.glob("btcusdt_*.gz")))
    assert len(expected) == 1072  # as documented for the two BTCUSDT files
    with SimulatorProcess(tmp_path, symbols=("BTCUSDT",), source="replay", speed=50) as sim:
        client = BookClient(
            sim.rest_url, sim.ws_url, "BTCUSDT", book_ticker=True, snapshot_limit=5000
        ).start()
        try:
            poll_for(
                lambda: (
                    expected
                    <= original_ids(client.checkpoints_ok, sim.state()["symbols"]["BTCUSDT"])
                    or client.errors
                    or client.checkpoints_bad
                ),
                45,
                interval=0.5,
                what="every checkpoint of the recording",
            )
        finally:
            client.stop()
    assert client.errors == []
    assert client.checkpoints_bad == []
    assert client.syncs == 1
    assert client.gaps == 0
    assert client.crossed == 0


def test_replay_loops_without_losing_sync_and_serves_the_real_book(tmp_path, recordings):
    expected = expected_checkpoints([recordings / "ethusdt_20240808.gz"])
    assert len(expected) == 577
    with SimulatorProcess(tmp_path, symbols=("ETHUSDT",), source="replay", speed=60) as sim:
        client = BookClient(
            sim.rest_url,
            sim.ws_url,
            "ETHUSDT",
            book_ticker=True,
            snapshot_limit=5000,
            record_levels=100,
        ).start()
        try:
            compared = []
            while sim.state()["symbols"]["ETHUSDT"]["loop"] < 2 and not client.errors:
                time.sleep(0.5)
                if client.synced:
                    compared.append(compare_with_rest(sim, client, "ETHUSDT", 100))
            state = sim.state()["symbols"]["ETHUSDT"]
            poll_for(lambda: client.last_u >= state["last_update_id"], 20, what="client catch-up")
        finally:
            client.stop()
    assert client.errors == []
    assert client.syncs == 1
    assert client.gaps == 0
    assert client.crossed == 0
    assert client.checkpoints_bad == []
    assert original_ids(client.checkpoints_ok, state) == expected
    assert len(compared) >= 4
    # ... some of them after the book jumped back to the recording's start
    assert max(compared) > state["recording_first_update_id"] + state["update_id_period"]
    # Ids only ever go forward: two loops later they are far above the recording's own.
    assert client.last_u > state["recording_first_update_id"] + 2 * state["update_id_period"]
