"""The writer's ROUTER against real DEALERs: hello, fetch, EHOSTUNREACH, handover, timeouts."""

from __future__ import annotations

import itertools
import logging

import pytest
import zmq

from shared import backfill as proto
from shared.codec import encode
from shared.security import SocketSecurity
from tests.support.waiting import free_endpoint, poll_for
from writer.backfill import BackfillRecord, BackfillServer


@pytest.fixture
def dealer(zmq_context):
    """Makes DEALERs like a collector's (routing id = symbol); all closed at the end."""
    made = []

    def make(endpoint, symbol=b"BTCUSDT"):
        sock = zmq_context.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.ROUTING_ID, symbol)
        sock.connect(endpoint)
        made.append(sock)
        return sock

    yield make
    for sock in made:
        sock.close(0)


def hello(sock, first=100, last=200, symbol="BTCUSDT", session=1):
    sock.send_multipart([proto.HELLO, encode(proto.Hello(symbol, session, 5, first, last))])


def received(server, now=0.0):
    events = []
    poll_for(lambda: events.extend(server.receive(now)) or events, 10)
    return events


def test_fetch_reaches_the_collector_that_said_hello(zmq_context, dealer):
    endpoint = free_endpoint()
    server = BackfillServer(zmq_context, endpoint, 5.0, SocketSecurity(zmq_context, None))
    collector = dealer(endpoint)
    hello(collector)
    assert isinstance(received(server)[0], proto.Hello)
    server.want("BTCUSDT", 150, 160)
    server.pump(0.0)
    assert collector.poll(5000)
    kind, payload = collector.recv_multipart()
    assert kind == proto.FETCH
    assert proto.decode_fetch(payload) == proto.Fetch("BTCUSDT", 150, 160)
    collector.send_multipart([proto.RECORD, b"book", b"trades"])
    done = proto.Done("BTCUSDT", 150, 160, 11)
    collector.send_multipart([proto.DONE, encode(done)])
    events: list = []

    def done_taken() -> bool:  # the record and the DONE after it may come in separate turns
        events.extend(server.receive(0.0))
        return server.pending_ranges() == 0

    poll_for(done_taken, 10)
    assert events[0] == BackfillRecord("BTCUSDT", [b"book", b"trades"], (150, 160))
    server.close()


def test_a_vanished_collector_is_ehostunreach_then_a_new_one_takes_over(
    zmq_context, dealer, caplog
):
    endpoint = free_endpoint()
    server = BackfillServer(zmq_context, endpoint, 5.0, SocketSecurity(zmq_context, None))
    first = dealer(endpoint)
    hello(first)
    received(server)
    monitor = server.socket.get_monitor_socket(zmq.EVENT_DISCONNECTED)
    first.close(0)
    assert monitor.poll(10_000)  # the ROUTER has seen the collector go
    server.socket.disable_monitor()
    monitor.close(0)
    server.want("BTCUSDT", 150, 160)
    # The monitor's DISCONNECTED event can come before the ROUTER drops the peer's pipe, so a
    # first fetch may still leave into the dying pipe; each pump is 10 s later, so such a fetch
    # times out and is retried, and the retry meets EHOSTUNREACH.
    later = itertools.count(0.0, 10.0)
    with caplog.at_level(logging.WARNING):
        poll_for(lambda: server.pump(next(later)) or "not connected" in caplog.text, 10)
    assert server.pending_ranges() == 1  # kept for the next collector

    second = dealer(endpoint)  # same routing id: ROUTER_HANDOVER
    hello(second)
    received(server)
    server.pump(0.0)
    assert second.poll(5000)
    assert proto.decode_fetch(second.recv_multipart()[1]) == proto.Fetch("BTCUSDT", 150, 160)
    server.close()


def test_ranges_older_than_the_buffer_are_given_up_and_timeouts_retried(
    zmq_context, dealer, caplog
):
    endpoint = free_endpoint()
    server = BackfillServer(zmq_context, endpoint, 1.0, SocketSecurity(zmq_context, None))
    collector = dealer(endpoint)
    hello(collector, first=100, last=200)
    received(server)
    server.want("BTCUSDT", 10, 20)  # gone from the buffer
    server.want("BTCUSDT", 90, 110)  # partly gone
    with caplog.at_level(logging.WARNING):
        server.pump(0.0)
    assert server.unrecoverable == 11 + 10
    assert (
        "Seconds 10..20 of BTCUSDT are lost: no longer in the collector's buffer (it holds "
        "seconds 100..200)" in caplog.text
    )
    assert "Seconds 90..99 of BTCUSDT are lost: no longer" in caplog.text
    assert proto.decode_fetch(collector.recv_multipart()[1]) == proto.Fetch("BTCUSDT", 100, 110)
    with caplog.at_level(logging.WARNING):
        server.pump(2.0)  # no answer: retried
    assert "timed out" in caplog.text
    assert proto.decode_fetch(collector.recv_multipart()[1]) == proto.Fetch("BTCUSDT", 100, 110)
    server.close()


def test_seconds_before_the_collector_started_are_reported_never_collected(
    zmq_context, dealer, caplog
):
    endpoint = free_endpoint()
    server = BackfillServer(zmq_context, endpoint, 1.0, SocketSecurity(zmq_context, None))
    collector = dealer(endpoint)
    # A collector that started at second 100 (after a downtime): its buffer holds 100..200.
    hello(collector, first=100, last=200, session=100 * 10**9 + 5)
    received(server)
    server.want("BTCUSDT", 10, 20)
    server.want("BTCUSDT", 90, 110)
    with caplog.at_level(logging.ERROR):
        server.pump(0.0)
    assert server.unrecoverable == 11 + 10
    for lost in ("10..20", "90..99"):
        assert (
            f"Seconds {lost} of BTCUSDT are lost: never collected: its collector started at "
            "second 100, after them" in caplog.text
        )
    assert proto.decode_fetch(collector.recv_multipart()[1]) == proto.Fetch("BTCUSDT", 100, 110)
    server.close()


def test_hostile_peers_are_reported_not_trusted(zmq_context, dealer):
    endpoint = free_endpoint()
    server = BackfillServer(zmq_context, endpoint, 1.0, SocketSecurity(zmq_context, None))
    liar = dealer(endpoint, b"ETHUSDT")
    hello(liar, symbol="BTCUSDT")
    unnamed = dealer(endpoint, b"not a symbol!")
    hello(unnamed)
    events = []
    poll_for(lambda: events.extend(server.receive(0.0)) or len(events) >= 2, 10)
    assert all(isinstance(e, str) for e in events)
    assert any("speaks for" in e for e in events)
    assert any("is not a symbol" in e for e in events)
    server.close()
