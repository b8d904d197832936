"""The SUB socket every collector's ``snap.`` records arrive on."""

from __future__ import annotations

import zmq

from shared.codec import MAX_PAYLOAD, SNAP_PREFIX
from shared.multipart import drain
from shared.security import SocketSecurity

# A larger frame makes ZeroMQ drop the sending connection before any of it is buffered: the
# cheapest defence against a hostile multi-megabyte frame (the fuzz campaign grew the writer by
# 780 MB with 5 MB frames queued behind an 8 MB limit).
MAX_MESSAGE = MAX_PAYLOAD
RECEIVE_HWM = 20_000  # messages: 20 s of 1,000 symbols, so bursts after a stall are not dropped
MAX_FRAMES = 4  # frames kept of a message (a valid one has 3): the rest are read and dropped
MAX_DRAIN = 5_000  # messages read per loop turn, so flushing and backfill still get their turn


class SnapshotSubscriber:
    """Binds SUB on the ingest endpoint, subscribed to ``snap.`` only."""

    def __init__(
        self, context: zmq.Context[zmq.Socket[bytes]], endpoint: str, security: SocketSecurity
    ) -> None:
        self.socket: zmq.Socket[bytes] = context.socket(zmq.SUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.RCVHWM, RECEIVE_HWM)
        self.socket.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE)
        self.socket.setsockopt(zmq.SUBSCRIBE, SNAP_PREFIX)
        try:
            security.serve(self.socket, "ingest", endpoint, "--ingest-endpoint")
            self.socket.bind(endpoint)
        except BaseException:
            self.socket.close(linger=0)
            raise
        self.endpoint = endpoint

    def drain(self, limit: int = MAX_DRAIN) -> list[list[bytes]]:
        """Every message already waiting (up to ``limit``), without blocking."""
        return drain(self.socket, MAX_FRAMES, limit)

    def close(self) -> None:
        self.socket.close(linger=0)
