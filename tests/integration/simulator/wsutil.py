"""Small helpers for reading the simulator's WebSocket streams in tests."""

from __future__ import annotations

import contextlib
import json
import struct
import time
from typing import Any

import websocket

from tests.support.simulator import SimulatorProcess

ABRUPT = -1  # the connection ended without a close frame


def open_ws(sim: SimulatorProcess, path: str, timeout: float = 5.0) -> websocket.WebSocket:
    return websocket.create_connection(f"{sim.ws_url}{path}", timeout=timeout)


def recv_json(ws: websocket.WebSocket) -> Any:
    return json.loads(ws.recv())


def depth_events(ws: websocket.WebSocket, count: int) -> list[dict[str, Any]]:
    """The next ``count`` depthUpdate payloads (raw or combined)."""
    events: list[dict[str, Any]] = []
    while len(events) < count:
        frame = recv_json(ws)
        data = frame.get("data", frame)
        if data.get("e") == "depthUpdate":
            events.append(data)
    return events


def read_until_close(ws: websocket.WebSocket, timeout: float) -> tuple[list[str], int | None]:
    """Read text frames until the connection ends; returns (frames, close code or ABRUPT).

    None means it was still open after ``timeout`` seconds.
    """
    try:
        return _read_until_close(ws, timeout)
    finally:
        close_ws(ws)


def close_ws(ws: websocket.WebSocket) -> None:
    """Close politely if still open, and always release the socket."""
    with contextlib.suppress(websocket.WebSocketException, OSError):
        ws.close(timeout=1)
    ws.shutdown()


def _read_until_close(ws: websocket.WebSocket, timeout: float) -> tuple[list[str], int | None]:
    frames: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            opcode, data = ws.recv_data(control_frame=True)
        except websocket.WebSocketTimeoutException:
            continue
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
            return frames, ABRUPT
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return frames, struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
        if opcode == websocket.ABNF.OPCODE_TEXT:
            frames.append(data.decode("utf-8", "replace"))
    return frames, None
