"""The collector's one PUB socket: connects to the writer's and the query's SUB endpoints."""

from __future__ import annotations

import logging

import zmq

from shared.codec import book_topic, encode, encode_second
from shared.model import BookSnapshot, LiveBook, SecondTrades

log = logging.getLogger(__name__)

LINGER_MS = 500  # on close, half a second to flush the last records; well inside the 5 s budget


class SnapshotPublisher:
    """Sends ``[snap.<SYM>, book, trades]`` and ``[book.<SYM>, live book]`` to every SUB."""

    def __init__(
        self, context: zmq.Context[zmq.Socket[bytes]], endpoints: list[str], hwm: int
    ) -> None:
        self._socket: zmq.Socket[bytes] = context.socket(zmq.PUB)
        # A PUB never blocks: past the HWM it drops. The HWM is high so that a writer that is
        # briefly slow loses nothing (and backfill covers a writer that was away).
        self._socket.setsockopt(zmq.SNDHWM, hwm)
        self._socket.setsockopt(zmq.LINGER, LINGER_MS)
        for endpoint in endpoints:
            self._socket.connect(endpoint)
        self.sent_snapshots = 0
        self.sent_live = 0
        log.info("publishing to %s", ", ".join(endpoints))

    def publish_second(self, book: BookSnapshot, trades: SecondTrades) -> list[bytes]:
        """Send one second; returns its [book, trades] frames (for the backfill buffer)."""
        frames = encode_second(book, trades)
        self._send(frames)
        self.sent_snapshots += 1
        return frames[1:]

    def publish_live(self, book: LiveBook) -> None:
        self._send([book_topic(book.symbol), encode(book)])
        self.sent_live += 1

    def close(self) -> None:
        self._socket.close(linger=LINGER_MS)

    def _send(self, frames: list[bytes]) -> None:
        try:
            self._socket.send_multipart(frames, flags=zmq.NOBLOCK)
        except zmq.Again:
            # Only possible with no peer connected at all; the ring buffer still has the record.
            log.debug("no subscriber ready for %r", frames[0])
