"""CURVE with real ZeroMQ sockets on loopback: only allowed keys get a message through."""

from __future__ import annotations

import logging
import re
import threading

import pytest
import zmq

from shared.curve import CurveServer, secure_client
from shared.curve_keys import Keyring, init_keys, load_keyring
from tests.support.clock import FakeClock
from tests.support.waiting import poll_for

WAIT_MS = 1500  # a refused peer gets nothing in this long; an allowed one is answered in ms


@pytest.fixture
def keys(tmp_path):
    init_keys(tmp_path)
    return {
        role: load_keyring(tmp_path, role) for role in ("collector", "writer", "query", "client")
    }


@pytest.fixture
def stranger(keys):
    """A well-formed key pair that no allow-list holds, posing as a client."""
    public, secret = zmq.curve_keypair()
    return Keyring("client", public, secret, dict(keys["client"].publics))


@pytest.fixture
def query_server(zmq_context, keys):
    """A query-process ROUTER on the ``query`` channel (clients' allow-list), answering pings."""
    server = CurveServer(zmq_context, keys["query"])
    router = zmq_context.socket(zmq.ROUTER)
    router.linger = 0
    server.secure_server(router, "query")
    port = router.bind_to_random_port("tcp://127.0.0.1")
    yield server, router, f"tcp://127.0.0.1:{port}"
    router.close(linger=0)
    server.stop()


def ask(context, endpoint, keyring=None, channel="query", server_key=None):
    """Send one request from a fresh DEALER; True if it reached the server and was answered."""
    dealer = context.socket(zmq.DEALER)
    dealer.linger = 0
    if keyring is not None:
        secure_client(dealer, keyring, channel)
    if server_key is not None:
        dealer.curve_serverkey = server_key
    dealer.sndtimeo = WAIT_MS  # a DEALER whose every connection was refused blocks on send
    dealer.connect(endpoint)
    try:
        try:
            dealer.send(b"ping")
        except zmq.Again:
            return False
        return dealer.poll(WAIT_MS) != 0 and dealer.recv() == b"pong"
    finally:
        dealer.close(linger=0)


def serve(router, timeout_ms=WAIT_MS):
    """Answer the pings that arrive within the timeout; how many there were."""
    served = 0
    while router.poll(timeout_ms):
        identity, payload = router.recv_multipart()
        assert payload == b"ping"
        router.send_multipart([identity, b"pong"])
        served += 1
        timeout_ms = 200
    return served


def ask_and_serve(context, query_server, **kwargs):
    _, router, endpoint = query_server
    served: list[int] = []
    thread = threading.Thread(target=lambda: served.append(serve(router)))
    thread.start()
    answered = ask(context, endpoint, **kwargs)
    thread.join()
    return answered, served[0]


def test_a_client_with_an_allowed_key_is_answered(zmq_context, query_server, keys):
    answered, served = ask_and_serve(zmq_context, query_server, keyring=keys["client"])
    assert answered
    assert served == 1
    assert query_server[0].refused == {}


def curve_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "shared.curve"]


def test_a_client_without_a_key_is_refused_and_logged_once(zmq_context, query_server, caplog):
    caplog.set_level(logging.WARNING, logger="shared.curve")
    answered, served = ask_and_serve(zmq_context, query_server)
    assert not answered
    assert served == 0
    poll_for(lambda: query_server[0].refused.get("query"), 5, what="the refusal")
    assert curve_lines(caplog) == [
        "Rejected (CURVE handshake failed on query): a peer without CURVE (no key); further "
        "rejects of this cause are counted, one line per 60 s"
    ]


def test_a_client_with_an_unknown_key_is_refused_and_logged_once(
    zmq_context, query_server, stranger, caplog
):
    caplog.set_level(logging.WARNING, logger="shared.curve")
    answered, served = ask_and_serve(zmq_context, query_server, keyring=stranger)
    assert not answered
    assert served == 0
    server = query_server[0]
    assert server.refused["query"] >= 1  # the peer retries: every attempt is refused
    lines = curve_lines(caplog)
    assert len(lines) == 1
    assert lines[0].startswith("Rejected (CURVE key not allowed on query): key ")
    assert "127.0.0.1" in lines[0]


def test_a_peer_with_the_collector_key_is_refused_where_only_clients_are_allowed(
    zmq_context, query_server, keys
):
    answered, served = ask_and_serve(zmq_context, query_server, keyring=keys["collector"])
    assert not answered
    assert served == 0
    assert query_server[0].refused["query"] >= 1


def test_a_client_that_trusts_the_wrong_server_key_gets_nothing_and_is_logged_once(
    zmq_context, query_server, keys, caplog
):
    caplog.set_level(logging.WARNING, logger="shared.curve")
    answered, served = ask_and_serve(
        zmq_context, query_server, keyring=keys["client"], server_key=keys["writer"].public
    )
    assert not answered
    assert served == 0
    assert query_server[0].refused["query"] >= 2  # it kept retrying: counted, not logged
    lines = curve_lines(caplog)
    assert len(lines) == 1
    assert "does not hold this server's public key" in lines[0]


def test_the_counts_of_refusals_are_logged_once_the_interval_passed(zmq_context, keys, caplog):
    caplog.set_level(logging.WARNING, logger="shared.curve")
    clock = FakeClock(0.0)
    server = CurveServer(zmq_context, keys["query"], clock=clock.monotonic)
    router = zmq_context.socket(zmq.ROUTER)
    server.secure_server(router, "query")
    port = router.bind_to_random_port("tcp://127.0.0.1")
    try:
        for _ in range(3):
            assert not ask(zmq_context, f"tcp://127.0.0.1:{port}", keyring=keys["collector"])
        clock.advance(60)
        server.flush_log()
        lines = curve_lines(caplog)
        assert len(lines) == 2
        counted = re.fullmatch(
            r"Rejected \(CURVE key not allowed on query\) (\d+) times in 60 s: key .*", lines[1]
        )
        assert counted is not None, lines[1]
        assert 2 <= int(counted.group(1)) < server.refused["query"]
    finally:
        router.close(linger=0)
        server.stop()


def test_ingest_takes_the_collector_key_and_refuses_a_client_key(zmq_context, keys):
    """The writer's SUB: a collector's PUB gets records in, a client's PUB does not."""
    server = CurveServer(zmq_context, keys["writer"])
    sub = zmq_context.socket(zmq.SUB)
    sub.linger = 0
    server.secure_server(sub, "ingest")
    sub.subscribe(b"snap.")
    port = sub.bind_to_random_port("tcp://127.0.0.1")
    endpoint = f"tcp://127.0.0.1:{port}"
    try:
        for role, expected in (("client", False), ("collector", True)):
            pub = zmq_context.socket(zmq.PUB)
            pub.linger = 0
            secure_client(pub, keys[role], "ingest")
            pub.connect(endpoint)

            def delivered(pub=pub) -> bool:
                pub.send_multipart([b"snap.BTCUSDT", b"record"])
                return sub.poll(100) != 0

            if expected:
                poll_for(delivered, timeout=5, what="a collector's record")
                assert sub.recv_multipart() == [b"snap.BTCUSDT", b"record"]
            else:
                assert not any(delivered() for _ in range(15))
                assert server.refused["ingest"] >= 1
            pub.close(linger=0)
    finally:
        sub.close(linger=0)
        server.stop()


def test_a_process_serves_only_its_own_channels(zmq_context, keys):
    server = CurveServer(zmq_context, keys["writer"])
    sock = zmq_context.socket(zmq.ROUTER)
    try:
        with pytest.raises(ValueError, match="does not serve query"):
            server.secure_server(sock, "query")
    finally:
        sock.close(linger=0)
        server.stop()
