"""The channel between the main query process and one database worker: a socketpair, framed.

Each message is a pickled object behind an 8-byte length. The two ends differ on purpose:

- ``Channel`` (the main process's end) never blocks. ``send`` queues the frame and writes what the
  socket takes now; ``flush`` writes more once the poller says the socket is writable;
  ``receive`` takes what has arrived and returns the messages completed by it. A worker that is
  slow to read a large job or to write a large reply (it runs at a lower priority, and a
  stopped process reads nothing) therefore never stalls the loop that answers live requests and
  enforces the workers' deadlines. (With ``multiprocessing.Connection`` the main process blocked
  in ``recv`` until a whole reply had arrived and in ``send`` until a whole job had been read.)
- ``WorkerEnd`` (the worker's end) blocks: a worker has nothing else to do.

Both ends come from ``socket.socketpair()``; the worker inherits its end when spawned, so no
other process can reach either.
"""

from __future__ import annotations

import pickle
import select
import socket
import struct
from typing import Any

HEADER = struct.Struct("!Q")
CHUNK = 256 * 1024  # bytes read per recv call


class ChannelClosed(EOFError):
    """The other end is gone."""


def _frame(message: object) -> bytes:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(payload)) + payload


class Channel:
    """The main process's end: non-blocking, buffered both ways."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self._sock = sock
        self._incoming = bytearray()
        self._outgoing = bytearray()
        # One reused receive buffer: ``recv(CHUNK)`` takes a fresh block of the heap per read,
        # which fragments it (a collector's heap grew ~5.8 MB an hour so, collector/wsframes.py).
        self._buffer = bytearray(CHUNK)
        self._view = memoryview(self._buffer)

    def fileno(self) -> int:
        return self._sock.fileno()

    @property
    def wants_write(self) -> bool:
        """Bytes are waiting for the socket to become writable."""
        return bool(self._outgoing)

    def send(self, message: object) -> None:
        """Queue ``message`` and write as much as the socket takes now."""
        self._outgoing += _frame(message)
        self.flush()

    def flush(self) -> None:
        """Write queued bytes without waiting; ChannelClosed if the worker is gone."""
        while self._outgoing:
            try:
                sent = self._sock.send(self._outgoing)
            except BlockingIOError:
                return
            except OSError as exc:
                raise ChannelClosed(str(exc)) from exc
            del self._outgoing[:sent]

    def receive(self) -> list[Any]:
        """The messages completed by what has arrived (maybe none); ChannelClosed at the end."""
        closed = False
        while True:
            try:
                got = self._sock.recv_into(self._buffer)
            except BlockingIOError:
                break
            except OSError:
                closed = True
                break
            if not got:
                closed = True
                break
            self._incoming += self._view[:got]
        messages = []
        while len(self._incoming) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._incoming)
            end = HEADER.size + size
            if len(self._incoming) < end:
                break
            messages.append(pickle.loads(self._incoming[HEADER.size : end]))
            del self._incoming[:end]
        if closed and not messages:
            raise ChannelClosed("the worker closed its end")
        return messages

    def close(self) -> None:
        self._sock.close()


class WorkerEnd:
    """The worker's end: blocking."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(True)
        self._sock = sock

    def poll(self, timeout: float) -> bool:
        """Whether a message (or the end) is ready within ``timeout`` seconds."""
        readable, _, _ = select.select([self._sock], [], [], timeout)
        return bool(readable)

    def recv(self) -> Any:
        """The next message; ChannelClosed when the main process closed its end."""
        (size,) = HEADER.unpack(self._exactly(HEADER.size))
        return pickle.loads(self._exactly(size))

    def send(self, message: object) -> None:
        self._sock.sendall(_frame(message))

    def _exactly(self, size: int) -> bytes:
        parts = bytearray()
        while len(parts) < size:
            chunk = self._sock.recv(min(CHUNK, size - len(parts)))
            if not chunk:
                raise ChannelClosed("the main process closed its end")
            parts += chunk
        return bytes(parts)

    def close(self) -> None:
        self._sock.close()
