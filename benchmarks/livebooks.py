"""A stand-in collector for the live endpoint: fresh 100-level LiveBooks, 10 a second."""

from __future__ import annotations

import threading
import time

import zmq

from benchmarks.daydata import DayData
from shared.codec import book_topic, encode
from shared.model import LiveBook


class LivePublisher:
    """Publishes a fresh 100-level LiveBook 10 times a second, as a collector does."""

    def __init__(self, endpoint: str, day: DayData) -> None:
        self.endpoint = endpoint
        self.symbol = day.symbol
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        mid = 60_000 * 10**8
        self.bids = tuple((mid - i * 1_000_000, 10_000_000 + i) for i in range(100))
        self.asks = tuple((mid + (i + 1) * 1_000_000, 20_000_000 + i) for i in range(100))

    def _run(self) -> None:
        context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        pub = context.socket(zmq.PUB)
        pub.setsockopt(zmq.LINGER, 0)
        pub.connect(self.endpoint)
        seq = 0
        try:
            while not self.stop.wait(0.1):
                seq += 1
                now = int(time.time() * 1000)
                book = LiveBook(self.symbol, 1, seq, seq, now, now, self.bids, self.asks)
                pub.send_multipart([book_topic(self.symbol), encode(book)])
        finally:
            pub.close(0)
            context.term()

    def __enter__(self) -> LivePublisher:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)
