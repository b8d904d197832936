"""A database worker that stops mid-job never stalls the main loop of the query process.

A stopped worker (SIGSTOP) leaves live answers and the deadline check running, and its job is
answered DEADLINE_EXCEEDED when the deadline passes. (The channel itself, a worker stopped in the
middle of writing a reply, is tested with real processes in ``test_channel.py``.)
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from pathlib import Path

import psutil
import zmq

from booksnap.client import QueryClient
from shared.codec import book_topic, encode
from shared.protocol import DEADLINE_EXCEEDED
from tests.integration.query.conftest import publish_until
from tests.integration.query.dbdata import live_book
from tests.support.processes import Proc
from tests.support.waiting import free_endpoint

DEADLINE = 2.0


def test_a_stopped_worker_never_stalls_live_answers_and_its_job_meets_the_deadline(
    tmp_path: Path, zmq_context
):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    endpoint, live, feed = (free_endpoint() for _ in range(3))
    proc = Proc(
        "query",
        [
            "--data-dir",
            str(data_dir),
            "--endpoint",
            endpoint,
            "--live-endpoint",
            live,
            "--feed-endpoint",
            feed,
            "--workers",
            "1",
            "--request-deadline",
            str(DEADLINE),
            "--log-level",
            "INFO",
        ],
        tmp_path / "query.log",
    ).start()
    pub = zmq_context.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.connect(live)
    try:
        proc.wait_log("query process ready", timeout=30)
        (worker,) = [
            child
            for child in psutil.Process(proc.pid).children()
            if "spawn_main" in " ".join(child.cmdline())
        ]
        with QueryClient(endpoint, timeout=10) as client, QueryClient(endpoint, timeout=10) as big:
            book = live_book("BTCUSDT", int(time.time()), seq=1)
            publish_until(
                pub,
                [book_topic("BTCUSDT"), encode(book)],
                lambda: client.request("orderbook_l1", {"symbol": "BTCUSDT"}),
            )
            worker.suspend()  # SIGSTOP: reads and answers nothing from now on
            frame = json.dumps(
                {"jsonrpc": "2.0", "id": "stuck", "method": "status", "params": {}}
            ).encode()
            answer: dict = {}

            def ask() -> None:
                answer["reply"] = big.send_raw([frame], "stuck")
                answer["after"] = time.monotonic() - sent

            sent = time.monotonic()
            asking = threading.Thread(target=ask)
            asking.start()
            latencies = []
            while time.monotonic() - sent < DEADLINE + 1.0:
                started = time.perf_counter()
                client.request("orderbook_l1", {"symbol": "BTCUSDT"})
                latencies.append(time.perf_counter() - started)
            asking.join(10)
            assert max(latencies) < 0.5, f"a live answer waited {max(latencies):.2f} s"
            assert len(latencies) > 50
            assert answer["reply"]["error"]["code"] == DEADLINE_EXCEEDED
            assert DEADLINE <= answer["after"] < DEADLINE + 3.0
        proc.wait_log("ran past its", timeout=10)
        worker.wait(10)  # the stopped worker was killed (and reaped) by the main process
    finally:
        pub.close(linger=0)
        with contextlib.suppress(psutil.Error, NameError):
            worker.resume()
        code = proc.stop(timeout=10)
        assert code == 0, proc.log()[-3000:]
        assert "Traceback" not in proc.log()
