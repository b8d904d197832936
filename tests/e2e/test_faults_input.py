"""Input-side drills: hostile bytes on every ZeroMQ endpoint, nonsense requests, bad CLI use.

While the pipeline runs, a stranger connects to the writer's ingest SUB and backfill ROUTER and
to the query process's live SUB and request ROUTER, and sends garbage. Nothing may crash, no
garbage may be stored or served, and storage must go on without losing a second. The query
process answers every nonsense request with an error reply; the ``booksnap`` command answers
every invalid use with one clear ``Error:`` line and a non-zero exit.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import msgpack
import pytest
import zmq

from booksnap.client import QueryClient
from shared.codec import encode
from shared.model import BookSnapshot, LiveBook, SecondTrades
from shared.protocol import INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR
from tests.support.books import book_problems
from tests.support.logs import ranges
from tests.support.pipeline import Pipeline, now_second, start_pipeline
from tests.support.processes import stop_all
from tests.support.waiting import poll_for

BTC = "BTCUSDT"


def garbage(topic: bytes) -> list[list[bytes]]:
    """Messages no collector ever sends, each with a reason to be rejected."""
    return [
        [topic],
        [topic, b""],
        [topic, b"\x00\xff garbage \x93"],
        [topic, b"a", b"b", b"c"],
        [topic, msgpack.packb([1, 2, 3])],
        [topic, msgpack.packb({"v": 1, "sym": BTC})],
        [topic, msgpack.packb({"v": 1, "sym": "not a symbol!", "sec": -1})],
        [topic, os.urandom(200_000)],
        [b"snap.btc-usd!", b"x"],
        [b"snap." + b"X" * 500, b"x"],
        [b"\xff\xfe", b"\x00"],
    ]


def crossed_snapshot(second: int) -> bytes:
    """A well-formed record whose book is crossed: must never be stored or served."""
    level = 6_000_000_000_000
    return encode(
        BookSnapshot(
            BTC,
            second,
            1,
            1,
            10**12,
            second * 1000,
            second * 1000,
            bids=((level + 100, 10**8),),
            asks=((level, 10**8),),
        )
    )


def crossed_live() -> bytes:
    level = 6_000_000_000_000
    now_ms = int(time.time() * 1000)
    return encode(
        LiveBook(
            BTC, 1, 1, 10**15, now_ms, now_ms, bids=((level + 100, 10**8),), asks=((level, 10**8),)
        )
    )


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    pipe = start_pipeline(tmp_path_factory.mktemp("input"))
    try:
        yield pipe
    finally:
        stop_all(list(pipe.procs.values()))


@pytest.fixture(scope="module")
def context() -> Iterator[zmq.Context[zmq.Socket[bytes]]]:
    ctx: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


def publish_for(
    context: zmq.Context[zmq.Socket[bytes]],
    endpoint: str,
    messages: list[list[bytes]],
    seconds: float,
) -> None:
    """Connect a PUB and send ``messages`` repeatedly for ``seconds`` (a SUB joins late)."""
    pub = context.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.connect(endpoint)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for message in messages:
                pub.send_multipart(message)
            time.sleep(0.1)
    finally:
        pub.close()


def assert_all_alive(pipe: Pipeline) -> None:
    for name, proc in pipe.procs.items():
        assert proc.alive(), f"{name} died:\n{proc.log()[-3000:]}"
        assert "Traceback" not in proc.log(), f"{name} logged a traceback:\n{proc.log()[-3000:]}"


def test_hostile_bytes_on_every_endpoint_crash_nothing_and_lose_nothing(
    pipeline: Pipeline, context: zmq.Context[zmq.Socket[bytes]], tmp_path: Path
) -> None:
    env = pipeline.env
    start = now_second()
    pipeline.wait_stored_through(start)
    fake_second = start - 1000  # long before this pipeline stored anything
    writer_mark = len(pipeline.log("writer"))

    # the writer's ingest SUB (subscribed to snap.)
    publish_for(
        context,
        env["BOOKSNAP_INGEST_ENDPOINT"],
        [
            *garbage(b"snap." + BTC.encode()),
            [
                b"snap." + BTC.encode(),
                crossed_snapshot(fake_second),
                encode(SecondTrades(BTC, fake_second, ())),
            ],
        ],
        2.0,
    )
    poll_for(
        lambda: "Rejected a message" in pipeline.log("writer")[writer_mark:],
        15,
        what="the writer logging the rejected messages",
    )
    # the writer's backfill ROUTER
    dealer = context.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.setsockopt(zmq.ROUTING_ID, BTC.encode())  # even posing as a collector
    dealer.connect(env["BOOKSNAP_BACKFILL_ENDPOINT"])
    for message in [*garbage(b"records"), [b"hello", b"\x00"], [b"records", b"\x93\x01\x02"]]:
        dealer.send_multipart(message)
    anonymous = context.socket(zmq.DEALER)
    anonymous.setsockopt(zmq.LINGER, 0)
    anonymous.connect(env["BOOKSNAP_BACKFILL_ENDPOINT"])
    for message in garbage(b"hello"):
        anonymous.send_multipart(message)
    # the query process's live SUB (book. and snap.)
    publish_for(
        context,
        env["BOOKSNAP_LIVE_ENDPOINT"],
        [*garbage(b"book." + BTC.encode()), [b"book." + BTC.encode(), crossed_live()]],
        2.0,
    )
    dealer.close()
    anonymous.close()

    end = now_second() + 3
    pipeline.wait_stored_through(end)
    assert_all_alive(pipeline)
    missing = pipeline.lost(pipeline.settle_coverage(start, end))
    for symbol in pipeline.symbols:
        assert missing[symbol] == [], f"{symbol} lost {ranges(missing[symbol])}"
        assert not book_problems(pipeline.data_dir, tmp_path / symbol, symbol, start, end)
    # the crossed record was refused, and the garbage live book is not served
    assert fake_second not in pipeline.stored()[BTC]
    assert not book_problems(pipeline.data_dir, tmp_path / "fake", BTC, fake_second, fake_second)
    with QueryClient(env["BOOKSNAP_QUERY_ENDPOINT"], timeout=5) as client:
        l1 = client.request("orderbook_l1", {"symbol": BTC})
        assert float(l1["best_bid"]) < float(l1["best_ask"])
        fake = client.request(
            "query_snapshots", {"symbol": BTC, "start": fake_second, "end": fake_second}
        )
        assert fake["count"] == 0


NONSENSE: list[tuple[list[bytes], int]] = [
    ([b"\xff\xfe not utf-8"], PARSE_ERROR),
    ([b"{not json"], PARSE_ERROR),
    ([b"[1, 2, 3]"], INVALID_REQUEST),
    ([b'"just a string"'], INVALID_REQUEST),
    ([json.dumps({"id": 1, "method": "rm -rf /"}).encode()], METHOD_NOT_FOUND),
    (
        [json.dumps({"id": 2, "method": "orderbook_l1", "params": {"symbol": "../etc"}}).encode()],
        INVALID_PARAMS,
    ),
    (
        [
            json.dumps(
                {"id": 3, "method": "orderbook_l2", "params": {"symbol": BTC, "levels": -4}}
            ).encode()
        ],
        INVALID_PARAMS,
    ),
    (
        [
            json.dumps(
                {"id": 4, "method": "coverage", "params": {"symbol": BTC, "start": 10, "end": 5}}
            ).encode()
        ],
        INVALID_PARAMS,
    ),
    (
        [
            json.dumps(
                {
                    "id": 5,
                    "method": "get_order_flow",
                    "params": {"symbol": BTC, "window_duration_secs": "x"},
                }
            ).encode()
        ],
        INVALID_PARAMS,
    ),
    ([json.dumps({"id": 6, "method": "status", "params": [1]}).encode()], INVALID_PARAMS),
    ([b"x" * 100_000], INVALID_REQUEST),
    ([b"a", b"b", b"c"], INVALID_REQUEST),
]


@pytest.mark.parametrize(("frames", "code"), NONSENSE)
def test_nonsense_requests_get_error_replies(
    pipeline: Pipeline, frames: list[bytes], code: int
) -> None:
    with QueryClient(pipeline.env["BOOKSNAP_QUERY_ENDPOINT"], timeout=5) as client:
        reply = client.send_raw(frames)
        assert "error" in reply, reply
        assert reply["error"]["code"] == code, reply
        assert reply["error"]["message"]
        # and it keeps serving
        assert client.request("status")
    assert pipeline.procs["query"].alive()


BAD_USES = [
    ["l1", "btc-usd!"],
    ["l1"],
    ["l2", BTC, "--levels", "0"],
    ["l2", BTC, "--levels", "many"],
    ["order-flow", BTC, "--window", "-5"],
    ["health", "NOTASYMBOL_WITH_A_NAME_FAR_TOO_LONG"],
    ["coverage", BTC, "--start", "10", "--end", "5"],
    ["snapshots", BTC, "--start", "yesterday-ish", "--end", "now"],
    ["volume-profile", BTC, "--hours", "100000"],
    ["vacuums", BTC, "--no-such-flag"],
    ["no-such-command"],
    ["writer", "--symbols", "BTC USDT!"],
    ["collector", "--symbols", ","],
    ["query", "--endpoint", "not-an-endpoint"],
    ["simulate", "--source", "nowhere"],
]


@pytest.mark.parametrize("args", BAD_USES, ids=[" ".join(a) for a in BAD_USES])
def test_bad_cli_use_is_one_clear_line_and_a_nonzero_exit(
    pipeline: Pipeline, args: list[str], tmp_path: Path
) -> None:
    done = subprocess.run(
        [*pipeline.cli(), *args],
        env={**os.environ, **pipeline.env, "BOOKSNAP_DATA_DIR": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, output
    assert len(errors[0]) > len("Error: ") + 10, output
