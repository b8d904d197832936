"""Injected stream faults look to a client exactly as the exchange would show them."""

from __future__ import annotations

import itertools
import json
import time

import pytest
import websocket

from tests.integration.simulator.wsutil import (
    ABRUPT,
    depth_events,
    open_ws,
    read_until_close,
    recv_json,
)
from tests.support.simulator import simulator_fixture

simulator = simulator_fixture(symbols=("BTCUSDT", "ETHUSDT"), scope="module")


@pytest.fixture(autouse=True)
def _no_leftover_faults(simulator):
    yield
    simulator.fault("clear")


def test_gap_shows_as_a_jump_in_update_ids(simulator):
    ws = open_ws(simulator, "/ws/btcusdt@depth@100ms")
    first = depth_events(ws, 3)
    simulator.fault("gap", symbol="BTCUSDT", count=3)
    events = first + depth_events(ws, 12)
    ws.close()

    jumps = [(a["u"], b["U"]) for a, b in itertools.pairwise(events) if b["U"] != a["u"] + 1]
    assert len(jumps) == 1
    previous_u, next_first = jumps[0]
    assert next_first > previous_u + 3  # three skipped events, each spanning ≥ 1 update id


def test_gap_on_another_symbol_leaves_this_stream_alone(simulator):
    ws = open_ws(simulator, "/ws/btcusdt@depth@100ms")
    simulator.fault("gap", symbol="ETHUSDT", count=5)
    events = depth_events(ws, 10)
    ws.close()
    assert all(b["U"] == a["u"] + 1 for a, b in itertools.pairwise(events))


def test_disconnect_drops_the_connection_without_a_close_frame(simulator):
    ws = open_ws(simulator, "/stream?streams=btcusdt@depth@100ms", timeout=0.5)
    depth_events(ws, 1)
    result = simulator.fault("disconnect")
    _, code = read_until_close(ws, timeout=10)
    assert code == ABRUPT
    assert "1 connections dropped" in result["done"] or "connections dropped" in result["done"]


def test_disconnect_with_a_code_sends_a_close_frame(simulator):
    ws = open_ws(simulator, "/ws/btcusdt@trade", timeout=0.5)
    simulator.fault("disconnect", code=1011)
    _, code = read_until_close(ws, timeout=10)
    assert code == 1011


def test_stall_is_silence_then_resumption_without_loss(simulator):
    ws = open_ws(simulator, "/ws/btcusdt@depth@100ms")
    depth_events(ws, 2)
    simulator.fault("stall", seconds=1.5)
    arrivals, events = [time.monotonic()], []
    while len(events) < 25:
        events.extend(depth_events(ws, 1))
        arrivals.append(time.monotonic())
    ws.close()

    silences = [b - a for a, b in itertools.pairwise(arrivals)]
    assert max(silences) >= 1.2
    assert all(b["U"] == a["u"] + 1 for a, b in itertools.pairwise(events))


def test_malformed_frames_cannot_be_parsed(simulator):
    ws = open_ws(simulator, "/stream?streams=btcusdt@depth@100ms")
    depth_events(ws, 1)
    simulator.fault("malformed", symbol="BTCUSDT", count=2)
    bad, good = 0, []
    while len(good) < 8:
        text = ws.recv()
        try:
            good.append(json.loads(text)["data"])
        except json.JSONDecodeError:
            bad += 1
    ws.close()
    assert bad == 2
    assert all(b["U"] == a["u"] + 1 for a, b in itertools.pairwise(good))


def test_server_shutdown_event_then_close(simulator):
    ws = open_ws(simulator, "/stream?streams=ethusdt@depth@100ms", timeout=0.5)
    simulator.fault("server_shutdown", grace=0.5)
    frames, code = read_until_close(ws, timeout=10)

    events = [json.loads(f) for f in frames]
    shutdowns = [e for e in events if e.get("e") == "serverShutdown"]
    assert len(shutdowns) == 1
    assert abs(shutdowns[0]["E"] - time.time() * 1000) < 10_000
    assert code == 1001


def test_too_many_incoming_messages_disconnects(simulator):
    ws = open_ws(simulator, "/ws", timeout=0.5)
    for i in range(8):
        try:
            ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
        except (ConnectionError, OSError):
            break
    frames, code = read_until_close(ws, timeout=10)
    assert code == 1008
    assert len([f for f in frames if '"result"' in f]) <= 5


def test_subscribe_list_unsubscribe_on_a_raw_connection(simulator):
    ws = open_ws(simulator, "/ws")
    ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 1}))
    assert recv_json(ws) == {"result": None, "id": 1}
    trade = recv_json(ws)  # raw connections get the bare payload
    assert trade["e"] == "aggTrade"
    assert set(trade) == {"e", "E", "s", "a", "p", "q", "f", "l", "T", "m", "M"}
    assert trade["s"] == "BTCUSDT"
    assert trade["f"] <= trade["l"]
    time.sleep(0.3)  # stay under 5 incoming messages per second
    ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 2}))
    reply = next(m for m in iter(lambda: recv_json(ws), None) if "id" in m)
    assert reply == {"result": ["btcusdt@aggTrade"], "id": 2}
    time.sleep(0.3)
    ws.send(json.dumps({"method": "UNSUBSCRIBE", "params": ["btcusdt@aggTrade"], "id": 3}))
    reply = next(m for m in iter(lambda: recv_json(ws), None) if "id" in m)
    assert reply == {"result": None, "id": 3}
    time.sleep(0.3)
    ws.send("not json")
    reply = next(m for m in iter(lambda: recv_json(ws), None) if "error" in m or "id" in m)
    assert reply["error"]["code"] == 3
    time.sleep(0.3)
    ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@nonsense"], "id": 4}))
    reply = next(m for m in iter(lambda: recv_json(ws), None) if "id" in m)
    assert reply["id"] == 4
    assert reply["error"]["code"] == 2
    ws.close()


def test_one_second_depth_stream_is_contiguous(simulator):
    ws = open_ws(simulator, "/ws/ethusdt@depth")
    events = depth_events(ws, 3)
    ws.close()
    assert all(b["U"] == a["u"] + 1 for a, b in itertools.pairwise(events))
    assert all(700 <= b["E"] - a["E"] <= 1300 for a, b in itertools.pairwise(events))


def test_bad_stream_name_is_refused_at_handshake(simulator):
    with pytest.raises(Exception, match="400"):
        open_ws(simulator, "/ws/btcusdt@bogus")


def test_a_ping_is_answered_after_every_frame_queued_before_it(simulator):
    ws = open_ws(simulator, "/ws/btcusdt@depth@100ms")
    depth_events(ws, 2)
    simulator.fault("stall", seconds=1.0)
    time.sleep(0.5)  # frames pile up in the stalled queue
    pinged = time.monotonic()
    ws.ping(b"order")
    kinds: list[str] = []
    while "pong" not in kinds:
        opcode, frame = ws.recv_data_frame(True)
        if opcode == websocket.ABNF.OPCODE_PONG:
            assert frame.data == b"order"
            kinds.append("pong")
            answered = time.monotonic()
        elif opcode == websocket.ABNF.OPCODE_TEXT:
            kinds.append("data")
    ws.close()

    # A stalled server answers nothing, and the pong comes only after the frames held before it.
    assert answered - pinged >= 0.3
    assert kinds.count("data") >= 3
    assert kinds[-1] == "pong"


def test_gap_all_makes_every_symbol_jump(simulator):
    names = ("BTCUSDT", "ETHUSDT")
    streams = {s: open_ws(simulator, f"/ws/{s.lower()}@depth@100ms") for s in names}
    before = {s: depth_events(ws, 2) for s, ws in streams.items()}
    simulator.fault("gap_all")
    jumps = {}
    for symbol, ws in streams.items():
        events = before[symbol] + depth_events(ws, 6)
        ws.close()
        jumps[symbol] = sum(1 for a, b in itertools.pairwise(events) if b["U"] != a["u"] + 1)

    # Every symbol lost exactly its next depth event: every client must resync.
    assert jumps == {"BTCUSDT": 1, "ETHUSDT": 1}
    assert simulator.state()["faults"]["gap"] == {}  # every armed gap was taken
