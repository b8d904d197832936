"""Backfill with a real ROUTER socket playing the writer: fetch returns the buffered records."""

from __future__ import annotations

import pytest
import zmq

from shared.backfill import (
    DONE,
    FETCH,
    HELLO,
    RECORD,
    Fetch,
    decode_done,
    decode_hello,
)
from shared.codec import decode_second, encode, snap_topic
from tests.integration.collector.harness import Sink, collector
from tests.support.seconds import second_of
from tests.support.simulator import simulator_fixture
from tests.support.waiting import free_endpoint, poll_for

simulator = simulator_fixture(symbols=("ETHUSDT",), source="replay", speed=10)


@pytest.fixture
def router(zmq_context):
    endpoint = free_endpoint()
    socket = zmq_context.socket(zmq.ROUTER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.bind(endpoint)
    yield endpoint, socket
    socket.close(linger=0)


def receive(socket, timeout_ms: int = 5000) -> list[bytes]:
    assert socket.poll(timeout_ms), "nothing received"
    return socket.recv_multipart()


def test_fetch_returns_the_buffered_records(tmp_path, simulator, zmq_context, router):
    endpoint, socket = router
    sink = Sink(zmq_context)
    proc = collector(tmp_path, simulator, sink, "ETHUSDT", backfill=endpoint)
    try:
        published = sink.wait_records("ETHUSDT", 5)

        # The collector says hello with its routing id = symbol and its buffered span.
        def hello_with_records():
            identity, kind, payload = receive(socket)
            assert identity == b"ETHUSDT"
            assert kind == HELLO
            hello = decode_hello(payload)
            return hello if hello.last >= published[4].second else None

        hello = poll_for(hello_with_records, 20, what="a hello covering 5 records")
        assert hello.symbol == "ETHUSDT"
        assert hello.session == published[0].session
        assert hello.first <= published[0].second

        # A fetch buried in 20,000 more frames: refused (only the first 3 are kept), not served.
        first, last = published[0].second, published[4].second
        hostile = encode(Fetch("ETHUSDT", first, last))
        socket.send_multipart([b"ETHUSDT", FETCH, hostile, *[b""] * 20_000])

        # Act: ask for the seconds of the first five published records.
        socket.send_multipart([b"ETHUSDT", FETCH, encode(Fetch("ETHUSDT", first, last))])
        records, done = [], None
        while done is None:
            _identity, kind, *payload = receive(socket)
            if kind == RECORD:
                book, trades = payload
                records.append(second_of(*decode_second([snap_topic("ETHUSDT"), book, trades])))
            elif kind == DONE:
                done = decode_done(payload[0])
    finally:
        code = proc.stop(timeout=10)
        sink.close()

    # Assert: exactly the published records, trades included, then done with their count.
    assert code == 0
    assert records == published[:5]
    assert (done.first, done.last, done.count) == (first, last, 5)
    assert "backfill: sent 5 records" in proc.log()
    assert "not [fetch, payload]" in proc.log()
