"""WebSocket frames read straight from the connection's socket, every frame that arrived per call.

websocket-client opens the connection (handshake, TLS) and sends; its receive path read one
frame with three ``recv`` calls (header, length, payload), each behind a ``settimeout`` (an
``ioctl``) and a ``poll``, and built several objects per frame: at ~10 frames/s per symbol that
was ~40 % of a collector's CPU (docs/benchmarks.md, scale section). Here the socket stays
non-blocking: one ``poll`` waits, one ``recv`` takes whatever arrived (on TLS, until the socket
would block), and the frames are cut from that buffer.

The rules of RFC 6455 for a client are enforced, each at the frame header, so hostile input is
refused at O(1) cost: a server frame is never masked and sets no extension bit (none is
negotiated), a control frame is final and at most 125 bytes, continuations follow a first
fragment, and a message (a frame and its continuations) larger than ``MAX_MESSAGE`` is refused
as soon as a header says so. A violation raises ``WebSocketProtocolException``; the caller drops
the connection.
"""

from __future__ import annotations

import math
import select
import ssl
from collections.abc import Callable
from typing import Any

import websocket

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA
CONTINUATION = 0x0
# Binance's largest frames (a busy symbol's 100 ms depth batch) are tens of kB; a megabyte is
# far past any real one and bounds the buffer.
MAX_MESSAGE = 1 << 20
CHUNK = 65536  # bytes asked of one recv
SEND_TIMEOUT = 0.5  # s a send may block (the loop's bound on every blocking call)


class FrameSocket:
    """A websocket-client connection whose incoming frames are read here."""

    def __init__(self, ws: Any, max_message: int = MAX_MESSAGE) -> None:
        self.ws = ws  # websocket.WebSocket: sends, pongs, the closing handshake
        self._sock = ws.sock
        self._tls = isinstance(self._sock, ssl.SSLSocket)
        self._sock.setblocking(False)
        self._poller = select.poll()
        self._poller.register(self._sock.fileno(), select.POLLIN)
        self._max = max_message
        # One reused receive buffer: ``recv(CHUNK)`` would take a fresh 64 kB block from the
        # heap for every read and shrink it, and the long-lived records allocated between
        # those blocks fragment the heap (a collector's grew ~5.8 MB an hour, docs/scaling.md).
        self._buffer = bytearray(CHUNK)
        self._view = memoryview(self._buffer)
        self._rest = b""  # the start of a frame whose end has not arrived yet
        self._parts: list[bytes] = []  # fragments of an unfinished message
        self._size = 0  # their total length
        self._opcode = 0  # TEXT or BINARY: the unfinished message's type
        self._eof = False  # the server closed the socket after the bytes last returned

    def read(self, timeout: float) -> list[tuple[int, bytes]]:
        """Every complete message and control frame that arrived within ``timeout`` s, oldest
        first ([] when none did). Raises ``WebSocketException`` or ``OSError`` when the
        connection is closed or breaks the protocol."""
        if self._eof:
            raise websocket.WebSocketConnectionClosedException("the server closed the socket")
        pending = self._tls and self._sock.pending()
        if not pending and not self._poller.poll(math.ceil(timeout * 1000)):
            return []
        data = self._receive()
        return self._frames(data) if data else []

    def send(self, text: str) -> None:
        self._blocking(self.ws.send, text)

    def ping(self, payload: bytes) -> None:
        self._blocking(self.ws.ping, payload)

    def pong(self, payload: bytes) -> None:
        self._blocking(self.ws.pong, payload)

    def close(self, timeout: float) -> None:
        self.ws.close(timeout=timeout)  # sets its own socket timeout for the closing handshake

    def _blocking(self, send: Callable[[Any], object], payload: Any) -> None:
        # Sends are rare (pings, pongs, a subscription): a bounded blocking send is simpler
        # than queueing what a full send buffer refused.
        self._sock.settimeout(SEND_TIMEOUT)
        try:
            send(payload)
        finally:
            self._sock.setblocking(False)

    def _receive(self) -> bytes:
        """What the socket holds now, after the unfinished frame's start (b"" if nothing)."""
        chunks = [self._rest] if self._rest else []
        size = len(self._rest)
        # Read no more than a whole message beyond the limit: the header check refuses it.
        while size <= self._max + CHUNK:
            try:
                got = self._sock.recv_into(self._buffer)
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                break
            if not got:
                self._eof = True  # raised by the next read: first the frames that came before
                break
            chunks.append(bytes(self._view[:got]))
            size += got
            if got < CHUNK and not self._tls:
                break  # a short read emptied the kernel's buffer (TLS may hold more decrypted)
        self._rest = b""
        if not chunks and self._eof:
            raise websocket.WebSocketConnectionClosedException("the server closed the socket")
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _frames(self, data: bytes) -> list[tuple[int, bytes]]:
        out: list[tuple[int, bytes]] = []
        pos, end = 0, len(data)
        while end - pos >= 2:
            b0, length = data[pos], data[pos + 1]
            if b0 & 0x70 or length & 0x80:
                raise websocket.WebSocketProtocolException(
                    f"frame header {data[pos : pos + 2].hex()}: extension bits or a mask"
                )
            opcode, head = b0 & 0x0F, 2
            if length == 126:
                if end - pos < 4:
                    break
                length, head = int.from_bytes(data[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if end - pos < 10:
                    break
                length, head = int.from_bytes(data[pos + 2 : pos + 10], "big"), 10
            self._check(opcode, bool(b0 & 0x80), length)
            if end - pos < head + length:
                break
            payload = data[pos + head : pos + head + length]
            pos += head + length
            if b0 & 0x80 and (opcode >= CLOSE or (opcode and not self._parts)):
                out.append((opcode, payload))  # the common case: a whole message, or control
                continue
            if opcode:
                self._opcode = opcode
            self._parts.append(payload)
            self._size += length
            if b0 & 0x80:
                out.append((self._opcode, b"".join(self._parts)))
                self._parts, self._size = [], 0
        self._rest = data[pos:]
        return out

    def _check(self, opcode: int, fin: bool, length: int) -> None:
        """Refuse a frame from its header alone."""
        if opcode >= CLOSE:
            if opcode not in (CLOSE, PING, PONG) or not fin or length > 125:
                raise websocket.WebSocketProtocolException(
                    f"control frame opcode {opcode:#x}, fin {fin}, {length} bytes"
                )
            return
        if opcode not in (CONTINUATION, TEXT, BINARY):
            raise websocket.WebSocketProtocolException(f"unknown opcode {opcode:#x}")
        if (opcode == CONTINUATION) != bool(self._parts):
            raise websocket.WebSocketProtocolException(
                "continuation without a first fragment"
                if opcode == CONTINUATION
                else "a new message inside a fragmented one"
            )
        if self._size + length > self._max:
            raise websocket.WebSocketProtocolException(
                f"message of {self._size + length} bytes (at most {self._max})"
            )
