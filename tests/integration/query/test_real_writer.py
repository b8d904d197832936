"""The query process over the real ``python -m writer``'s database, writer restarts included."""

from __future__ import annotations

import dataclasses
import time

import pytest
import zmq

from tests.integration.query.dbdata import synthetic_snapshot
from tests.support.processes import Proc
from tests.support.waiting import free_endpoint, poll_for

SESSION = 42


@pytest.fixture
def collector_pub(zmq_context, query_process):
    """A PUB connected to the writer's ingest and the query's live endpoint, as a collector's."""
    ingest = free_endpoint()
    pub = zmq_context.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.connect(ingest)
    pub.connect(query_process.live_endpoint)
    yield pub, ingest
    pub.close(linger=0)


def start_writer(tmp_path, data_dir, ingest: str, run: int) -> Proc:
    proc = Proc(
        "writer",
        [
            "--data-dir",
            str(data_dir),
            "--ingest-endpoint",
            ingest,
            "--backfill-endpoint",
            free_endpoint(),
        ],
        tmp_path / f"writer-{run}.log",
    ).start()
    proc.wait_log("Writer ready", timeout=30)
    return proc


def publish(pub, seconds) -> None:
    for second in seconds:
        snap = synthetic_snapshot("BTCUSDT", second, session=SESSION)
        snap = dataclasses.replace(snap, seq=second - BASE + 1)
        pub.send_multipart(snap.frames())


BASE = int(time.time()) - 600


def test_query_follows_the_real_writer_across_restarts(tmp_path, query_process, collector_pub):
    pub, ingest = collector_pub
    client = query_process.client()
    writer = start_writer(tmp_path, query_process.data_dir, ingest, 1)
    try:
        sent = BASE

        def stored_up_to(last: int) -> bool:
            nonlocal sent
            publish(pub, range(sent, min(sent + 20, last + 1)))  # keep sending: slow joiners
            sent = min(sent + 20, last + 1) if sent <= last else sent
            page = client.request(
                "query_snapshots", {"symbol": "BTCUSDT", "start": last, "end": last}
            )
            return page["count"] == 1

        poll_for(lambda: stored_up_to(BASE + 99), 30, what="first run stored")
        assert writer.stop() == 0

        writer = start_writer(tmp_path, query_process.data_dir, ingest, 2)
        sent = BASE + 100
        poll_for(lambda: stored_up_to(BASE + 199), 30, what="second run stored")

        def writer_caught_up() -> dict | None:
            status = client.request("status", {})
            counters = (status["symbols"].get("BTCUSDT") or {}).get("writer") or {}
            return status if counters.get("last", 0) >= BASE + 199 else None

        # The writer rewrites its status record every few seconds.
        status = poll_for(writer_caught_up, 20, what="the writer's status record")
        assert status["database"]["open"] is True
        assert status["database"]["size_bytes"] > 0
        assert status["writer"]["pid"] == writer.pid
        entry = status["symbols"]["BTCUSDT"]
        assert entry["last_stored_second"] >= BASE + 199
        assert entry["publishing"] is True
        cover = client.request(
            "coverage", {"symbol": "BTCUSDT", "start": BASE + 100, "end": BASE + 199}
        )
        assert cover["fraction"] == 1.0
    finally:
        writer.stop()
        client.close()
