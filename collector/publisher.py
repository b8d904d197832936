"""The collector's PUB sockets: to the writer's ingest SUB and the query process's live SUB.

Without CURVE keys one PUB connects to both. With keys each destination needs its own socket,
since a CURVE client trusts exactly one server key (the writer's, the query process's); a second
is then encoded once and sent on both.
"""

from __future__ import annotations

import logging

import zmq

from shared.codec import book_topic, encode, encode_second
from shared.model import BookSnapshot, LiveBook, SecondTrades
from shared.security import SocketSecurity

log = logging.getLogger(__name__)

LINGER_MS = 500  # on close, half a second to flush the last records; well inside the 5 s budget


class SnapshotPublisher:
    """Sends ``[snap.<SYM>, book, trades]`` and ``[book.<SYM>, live book]`` to every SUB."""

    def __init__(
        self,
        context: zmq.Context[zmq.Socket[bytes]],
        destinations: list[tuple[str, str]],  # (channel, endpoint): ("ingest", ...), ("live", ...)
        hwm: int,
        security: SocketSecurity,
    ) -> None:
        groups = [destinations] if not security.curve else [[d] for d in destinations]
        self._sockets: list[zmq.Socket[bytes]] = []
        self._live: list[zmq.Socket[bytes]] = []  # the sockets that reach a live SUB
        for group in groups:
            sock: zmq.Socket[bytes] = context.socket(zmq.PUB)
            # A PUB never blocks: past the HWM it drops. The HWM is high so that a writer that is
            # briefly slow loses nothing (and backfill covers a writer that was away).
            sock.setsockopt(zmq.SNDHWM, hwm)
            sock.setsockopt(zmq.LINGER, LINGER_MS)
            for channel, endpoint in group:
                security.connect(sock, channel)
                sock.connect(endpoint)
            self._sockets.append(sock)
            if any(channel == "live" for channel, _ in group):
                self._live.append(sock)
        self.sent_snapshots = 0
        self.sent_live = 0
        log.info(
            "publishing to %s%s",
            ", ".join(endpoint for _, endpoint in destinations),
            " (CURVE)" if security.curve else "",
        )

    def publish_second(self, book: BookSnapshot, trades: SecondTrades) -> list[bytes]:
        """Send one second; returns its [book, trades] frames (for the backfill buffer)."""
        frames = encode_second(book, trades)
        for sock in self._sockets:
            self._send(sock, frames)
        self.sent_snapshots += 1
        return frames[1:]

    def publish_live(self, book: LiveBook) -> None:
        frames = [book_topic(book.symbol), encode(book)]
        for sock in self._live:
            self._send(sock, frames)
        self.sent_live += 1

    def close(self) -> None:
        for sock in self._sockets:
            sock.close(linger=LINGER_MS)

    @staticmethod
    def _send(sock: zmq.Socket[bytes], frames: list[bytes]) -> None:
        try:
            sock.send_multipart(frames, flags=zmq.NOBLOCK)
        except zmq.Again:
            # Only possible with no peer connected at all; the ring buffer still has the record.
            log.debug("no subscriber ready for %r", frames[0])
