"""The MCP bridge against a hostile peer at the query endpoint: every odd reply is a tool error.

A real ROUTER socket on a free port plays the query process and answers each request with the
frame under test; the bridge (``booksnap.mcp_app.QueryBridge``) is the one the server runs.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import zmq

from booksnap.mcp_app import QueryBridge


class FakePeer:
    """A ROUTER that answers every request with ``reply(request_id)`` (None: stays silent)."""

    def __init__(self, context: zmq.Context[Any], reply: Any) -> None:
        self.socket = context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        port = self.socket.bind_to_random_port("tcp://127.0.0.1")
        self.endpoint = f"tcp://127.0.0.1:{port}"
        self.reply = reply
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stop.is_set():
            if not self.socket.poll(50):
                continue
            identity, payload = self.socket.recv_multipart()
            answer = self.reply(json.loads(payload)["id"])
            if answer is not None:
                self.socket.send_multipart([identity, answer])

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        self.socket.close(linger=0)


@pytest.fixture
def context() -> Iterator[zmq.Context[Any]]:
    ctx: zmq.Context[Any] = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


def call(context: zmq.Context[Any], reply: Any, timeout: float = 2.0) -> Any:
    peer = FakePeer(context, reply)
    try:
        bridge = QueryBridge(peer.endpoint, timeout, context)
        return anyio.run(bridge.call_tool, "orderbook_l1", {"symbol": "BTCUSDT"})
    finally:
        peer.close()


def error_of(result: Any) -> dict[str, Any]:
    assert result.is_error
    error: dict[str, Any] = result.structured_content["error"]
    return error


@pytest.mark.parametrize(
    "payload",
    [
        b"\xff\xfe not utf-8",
        b"not json",
        b"[1, 2, 3]",
        b'{"id": 1}',
        b'{"id": 1, "error": {"code": "x", "message": "m"}}',
    ],
)
def test_a_reply_that_is_not_a_booksnap_reply_is_a_tool_error(context, payload):
    started = time.monotonic()
    result = call(context, lambda request_id: payload)

    # either it is recognised as a bad reply at once, or skipped (no matching id) until timeout
    assert error_of(result)["code"] in {"bad reply", "timeout"}
    assert time.monotonic() - started < 4
    assert len(result.content[0].text) < 1000


def test_a_huge_error_message_and_odd_data_are_bounded(context):
    def reply(request_id: int) -> bytes:
        error = {"code": -32002, "message": "m" * 200_000, "data": ["not", "a", "dict"]}
        return json.dumps({"id": request_id, "error": error}).encode()

    result = call(context, reply)

    error = error_of(result)
    assert error["code"] == -32002
    assert len(error["message"]) <= 500
    assert "data" not in error
    assert len(result.content[0].text) < 1000


def test_a_huge_error_data_is_dropped(context):
    def reply(request_id: int) -> bytes:
        error = {"code": -32602, "message": "bad", "data": {"param": "p", "x": "y" * 10_000}}
        return json.dumps({"id": request_id, "error": error}).encode()

    error = error_of(call(context, reply))

    assert error == {"code": -32602, "name": "invalid params", "message": "bad"}


def test_a_silent_peer_is_a_timeout_within_the_deadline(context):
    started = time.monotonic()
    result = call(context, lambda request_id: None, timeout=0.5)

    assert error_of(result)["code"] == "timeout"
    assert 0.5 <= time.monotonic() - started < 2.5


def test_a_good_reply_passes_through_unchanged(context):
    book = {"symbol": "BTCUSDT", "best_bid": "1.00000000", "best_ask": "1.01000000", "mid": 1.005}

    def reply(request_id: int) -> bytes:
        return json.dumps({"id": request_id, "result": book}).encode()

    result = call(context, reply)

    assert not result.is_error
    assert result.structured_content == book
    assert result.content[0].text.startswith("orderbook_l1 BTCUSDT: best_bid=1.00000000")
