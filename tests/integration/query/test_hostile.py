"""Whatever a client sends, the server answers with an error reply and keeps serving."""

from __future__ import annotations

import json
import time

import pytest
import zmq
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from shared.protocol import (
    ERROR_NAMES,
    INVALID_PARAMS,
    INVALID_REQUEST,
    MAX_MESSAGE_BYTES,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
)
from tests.integration.query.dbdata import Primary

METHODS = [
    "get_order_flow",
    "get_volume_profile",
    "get_microstructure_health",
    "get_liquidity_vacuums",
    "detect_market_anomalies",
    "get_market_quality",
    "orderbook_l1",
    "orderbook_l2",
    "query_snapshots",
    "status",
    "coverage",
]
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
param_values = st.one_of(
    json_values,
    st.sampled_from(
        [
            "BTCUSDT",
            "ETHUSDT",
            "btcusdt",
            "",
            "0.5",
            "2026-11-24T00:00:00Z",
            10**30,
            -1,
            0,
            1e308,
            "1e999999999",
            "9" * 300_000,
        ]
    ),
    st.text(min_size=1000, max_size=20_000),
)
requests = st.fixed_dictionaries(
    {"method": st.sampled_from(METHODS) | st.text(max_size=20)},
    optional={
        "id": json_values,
        "params": st.dictionaries(
            st.sampled_from(
                [
                    "symbol",
                    "window_duration_secs",
                    "duration_hours",
                    "tick_size",
                    "levels",
                    "threshold",
                    "start",
                    "end",
                    "limit",
                    "trades",
                    "x",
                ]
            ),
            param_values,
            max_size=4,
        )
        | json_values,
    },
)


@pytest.fixture
def dealer(query_process, zmq_context):
    primary = Primary(query_process.data_dir)
    now = int(time.time())
    primary.store(["BTCUSDT"], range(now - 300, now + 120))
    sock = zmq_context.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(query_process.endpoint)
    yield sock
    sock.close(linger=0)
    primary.close()


def exchange(sock, frames: list[bytes]) -> dict:
    sock.send_multipart(frames)
    assert sock.poll(15_000), f"no reply to {frames!r:.200}"
    reply = json.loads(sock.recv_multipart()[-1])
    assert set(reply) in ({"id", "result"}, {"id", "error"}), reply
    if "error" in reply:
        assert reply["error"]["code"] in ERROR_NAMES, reply
        assert reply["error"]["message"]
        assert len(reply["error"]["message"]) <= 500
    return reply


def codes_for_document(document: object) -> set[int]:
    """JSON-RPC 2.0: a document that is not an object is an invalid request; an object is judged
    by its fields (missing or bad method, unknown method, bad params)."""
    if isinstance(document, dict):
        return {INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS}
    return {INVALID_REQUEST}


def codes_for_payload(payload: bytes) -> set[int]:
    """Not UTF-8 JSON (NaN and Infinity are not JSON) is a parse error; else as the document.

    A lone empty frame is a REQ envelope's delimiter with no request after it: a frame count error.
    """
    if payload == b"":
        return {INVALID_REQUEST}

    def no_constants(name: str) -> None:
        raise ValueError(name)

    try:
        document = json.loads(payload.decode("utf-8"), parse_constant=no_constants)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return {PARSE_ERROR}
    return codes_for_document(document)


def still_serving(sock) -> None:
    reply = exchange(sock, [json.dumps({"id": "ok", "method": "status"}).encode()])
    assert reply["id"] == "ok"
    assert "result" in reply


@SETTINGS
@given(payload=st.binary(max_size=2000))
def test_random_bytes_get_error_replies(dealer, payload):
    reply = exchange(dealer, [payload])
    assert "error" in reply, reply
    assert reply["error"]["code"] in codes_for_payload(payload), reply


@SETTINGS
@given(document=json_values)
def test_random_json_gets_error_replies(dealer, document):
    payload = json.dumps(document).encode()  # infinities come out as Infinity: not JSON
    reply = exchange(dealer, [payload])
    assert "error" in reply, reply
    assert reply["error"]["code"] in codes_for_payload(payload), reply


@SETTINGS
@given(request=requests)
def test_random_requests_get_a_reply_with_their_id(dealer, request):
    reply = exchange(dealer, [json.dumps(request).encode()])
    request_id = request.get("id")
    if (
        isinstance(request_id, (str, int))
        and not isinstance(request_id, bool)
        and "result" in reply
    ):
        assert reply["id"] == request_id


@SETTINGS
@given(frames=st.lists(st.binary(max_size=50), min_size=2, max_size=6))
def test_wrong_frame_counts_get_error_replies(dealer, frames):
    # [b"", payload] is a REQ socket's envelope around one frame: a right count, not a wrong one
    assume(not (len(frames) == 2 and frames[0] == b""))
    reply = exchange(dealer, frames)
    assert "error" in reply, reply
    assert reply["error"]["code"] == INVALID_REQUEST, reply
    assert "frame" in reply["error"]["message"], reply


def test_huge_requests_are_refused_and_the_server_goes_on(dealer, query_process, zmq_context):
    reply = exchange(
        dealer, [b'{"id": 1, "method": "status", "params": {"x": "' + b"a" * 100_000 + b'"}}']
    )
    assert "exceeds" in reply["error"]["message"]

    # Above ZMQ_MAXMSGSIZE the connection is dropped without reading the message at all.
    giant = zmq_context.socket(zmq.DEALER)
    giant.setsockopt(zmq.LINGER, 0)
    giant.connect(query_process.endpoint)
    giant.send(b"x" * (MAX_MESSAGE_BYTES + 1))
    assert not giant.poll(1000)
    giant.close(linger=0)

    still_serving(dealer)
    assert query_process.proc.alive()


def test_a_burst_of_requests_from_many_clients_is_all_answered(dealer, query_process, zmq_context):
    clients = []
    for _ in range(20):
        sock = zmq_context.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(query_process.endpoint)
        clients.append(sock)
    for i, sock in enumerate(clients):
        for j in range(5):
            method = "coverage" if j % 2 else "get_order_flow"
            sock.send(
                json.dumps({"id": j, "method": method, "params": {"symbol": "BTCUSDT"}}).encode()
            )
        sock.send(b"\x00garbage" * i)
    for sock in clients:
        for _ in range(6):
            assert sock.poll(20_000)
            reply = json.loads(sock.recv_multipart()[-1])
            assert "result" in reply or reply["error"]["code"] in ERROR_NAMES
        sock.close(linger=0)
    still_serving(dealer)


def _peak_mb(pid: int) -> float:
    """The process's peak resident memory so far (``VmHWM``)."""
    with open(f"/proc/{pid}/status", "rb") as status:
        for line in status:
            if line.startswith(b"VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_messages_of_many_frames_cost_only_the_frames_kept(dealer, query_process, live_pub):
    """libzmq delivers a message whole whatever its frames; the process builds at most a few of
    them in Python (``shared.multipart``), on the request socket and on the live stream alike."""
    frames = 200_000
    pid = query_process.proc.pid
    still_serving(dealer)
    before = _peak_mb(pid)
    for _ in range(3):
        reply = exchange(dealer, [b'{"id": 1, "method": "status"}', *[b""] * frames])
        assert reply["error"]["code"] == INVALID_REQUEST, reply
        assert "frame" in reply["error"]["message"], reply
        live_pub.send_multipart([b"book.BTCUSDT", *[b""] * frames])
    still_serving(dealer)
    grown = _peak_mb(pid) - before
    # Measured: the peak grows ~12 MB (libzmq's copy of one message); with every frame made a
    # Python object (``recv_multipart``), ~59 MB.
    assert grown < 30, f"the query process's peak memory grew by {grown:.0f} MB"
    assert query_process.proc.alive()
