"""The whole pipeline with CURVE keys: every second stored, strangers refused and logged once.

Keys are made with `booksnap keys init` and given to every process through BOOKSNAP_KEYS_DIR,
as docs/reliability.md tells an operator. Then a client without a key, a client with a key nobody
allowed, and a peer posing as a collector with a client key try their luck: none gets a message
through, each refusal is counted and logged at most once per cause and minute, and the
authenticated pipeline loses no second meanwhile.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq

from booksnap.client import QueryClient, QueryTimeout
from shared.curve import secure_client
from shared.curve_keys import Keyring, load_keyring
from tests.support.pipeline import Pipeline, now_second, start_pipeline
from tests.support.processes import stop_all
from tests.support.seconds import Second
from tests.support.waiting import poll_for


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pipeline, Path]]:
    root = tmp_path_factory.mktemp("curve")
    keys = root / "keys"
    booksnap = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "booksnap"
    command = [str(booksnap) if booksnap.exists() else "booksnap", "keys", "init", str(keys)]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    pipe = start_pipeline(root, env={"BOOKSNAP_KEYS_DIR": str(keys)})
    try:
        yield pipe, keys
    finally:
        stop_all(list(pipe.procs.values()))


def test_the_keyed_pipeline_stores_every_second_and_refuses_strangers(keyed) -> None:
    pipe, keys = keyed
    env = pipe.env
    start = now_second()
    pipe.wait_stored_through(start)
    assert "(CURVE)" in pipe.log("collector")  # the collectors publish with their key

    # The allowed client gets answers; one without a key and one with an unknown key get none.
    with QueryClient(env["BOOKSNAP_QUERY_ENDPOINT"], timeout=10, keys_dir=str(keys)) as client:
        assert client.request("orderbook_l1", {"symbol": "BTCUSDT"})["best_bid"]
    for keys_dir in (None, "stranger"):
        client = QueryClient(env["BOOKSNAP_QUERY_ENDPOINT"], timeout=1.5)
        if keys_dir == "stranger":
            public, secret = zmq.curve_keypair()
            known = load_keyring(keys, "client")
            client.keyring = Keyring("client", public, secret, dict(known.publics))
        with client, pytest.raises(QueryTimeout):
            client.request("status")

    # A peer posing as a collector with the client's key: nothing it sends is stored.
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    pub = context.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    secure_client(pub, load_keyring(keys, "client"), "ingest")
    pub.connect(env["BOOKSNAP_INGEST_ENDPOINT"])
    forged = Second("BTCUSDT", now_second() + 3, 99, 1, 1, 0, 0, ((7, 1),), ((9, 1),))
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        pub.send_multipart(forged.frames())
        time.sleep(0.05)
    pub.close(0)
    context.term()

    end = now_second()
    pipe.wait_stored_through(end + 2)
    lost = pipe.lost(pipe.settle_coverage(start, end))
    assert all(not seconds for seconds in lost.values()), lost
    books = pipe.stored_books("BTCUSDT", start, end + 2)
    assert all(book.bids[0][0] != 7 for book in books)  # the forged book's price
    assert len({book.session for book in books}) == 1  # the real collector's session only
    # Each refusal was logged, at most once per cause and socket in this minute.
    query_log, writer_log = pipe.log("query"), pipe.log("writer")
    poll_for(lambda: "CURVE" in query_log or "CURVE" in pipe.log("query"), 10, what="refusals")
    assert "CURVE" in pipe.log("writer")  # the client key on the collectors' socket
    for log in (pipe.log("query"), pipe.log("writer")):
        curve_lines = [line for line in log.splitlines() if "CURVE" in line]
        assert len(curve_lines) <= 6, curve_lines
    assert "Traceback" not in writer_log + query_log
