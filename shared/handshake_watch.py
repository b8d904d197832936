"""Seeing the CURVE handshakes that fail before ZAP is asked: plain peers and wrong server keys.

pyzmq's ZAP handler only hears from peers that completed the CURVE handshake; a peer speaking
plain ZeroMQ (no key at all) or one that encrypts for another server's public key is dropped by
libzmq before that. A socket monitor reports those failures, so ``shared.curve.CurveServer``
can count and log them (rate-limited) like the key refusals. The monitor reports the local
endpoint only, not the peer's address.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from typing import Any

import zmq
from zmq.utils.monitor import recv_monitor_message

EVENTS = zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
REASONS = {
    zmq.PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH: "a peer without CURVE (no key)",
    zmq.PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC: "a peer that does not hold this server's public key",
}
POLL_MS = 200
_NUMBERS = itertools.count()


class HandshakeWatch:
    """A thread reading the monitors of the watched sockets; ``on_failure(channel, reason)``."""

    def __init__(self, context: zmq.Context[Any], on_failure: Callable[[str, str], None]) -> None:
        self._context = context
        self._on_failure = on_failure
        self._added: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="curve-watch", daemon=True)
        self._thread.start()

    def watch(self, socket: zmq.Socket[Any], channel: str) -> None:
        """Report the handshake failures of ``socket`` (call from the socket's own thread)."""
        endpoint = f"inproc://booksnap-handshake-watch-{next(_NUMBERS)}"
        socket.monitor(endpoint, EVENTS)
        self._added.put((endpoint, channel))

    def stop(self) -> None:
        """End the thread and close its monitor sockets (before the context is terminated)."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        poller = zmq.Poller()
        channels: dict[zmq.Socket[Any], str] = {}
        try:
            while not self._stop.is_set():
                while not self._added.empty():
                    endpoint, channel = self._added.get()
                    pair = self._context.socket(zmq.PAIR)
                    pair.linger = 0
                    pair.connect(endpoint)
                    poller.register(pair, zmq.POLLIN)
                    channels[pair] = channel
                for pair, _ in poller.poll(POLL_MS):
                    event = recv_monitor_message(pair)
                    if event["event"] & EVENTS:
                        reason = REASONS.get(event["value"], f"handshake error {event['value']}")
                        self._on_failure(channels[pair], reason)
        finally:
            for pair in channels:
                pair.close(linger=0)
