"""The collector side of the backfill channel (see shared/backfill.py): a ring buffer of records
and a DEALER, routing id = symbol, that says hello and answers the writer's fetches."""

from __future__ import annotations

import logging
from collections import deque

import zmq

from shared.backfill import (
    DONE,
    FETCH,
    HELLO,
    RECORD,
    Done,
    Hello,
    decode_fetch,
    encode_done,
    encode_hello,
)
from shared.clock import Clock
from shared.errors import DecodeError

log = logging.getLogger(__name__)


class RecordBuffer:
    """The last ``capacity`` published records (second, encoded bytes), oldest first."""

    def __init__(self, capacity: int) -> None:
        self._records: deque[tuple[int, bytes]] = deque(maxlen=capacity)

    def add(self, second: int, payload: bytes) -> None:
        self._records.append((second, payload))

    def span(self) -> tuple[int, int]:
        """(oldest second, newest second), or (0, 0) when empty."""
        if not self._records:
            return 0, 0
        return self._records[0][0], self._records[-1][0]

    def between(self, first: int, last: int) -> list[tuple[int, bytes]]:
        """Records of the seconds first..last inclusive, oldest first."""
        return [(sec, data) for sec, data in self._records if first <= sec <= last]

    def __len__(self) -> int:
        return len(self._records)


class BackfillServer:
    """DEALER to the writer's ROUTER: hello on start and every few seconds, records on fetch."""

    def __init__(
        self,
        context: zmq.Context[zmq.Socket[bytes]],
        *,
        endpoint: str,
        symbol: str,
        session: int,
        buffer: RecordBuffer,
        clock: Clock,
        hello_interval: float,
        hwm: int,
    ) -> None:
        self._symbol = symbol
        self._session = session
        self._buffer = buffer
        self._clock = clock
        self._interval = hello_interval
        self._socket: zmq.Socket[bytes] = context.socket(zmq.DEALER)
        self._socket.setsockopt(zmq.ROUTING_ID, symbol.encode("ascii"))
        self._socket.setsockopt(zmq.LINGER, 0)  # a writer that went away needs nothing from us
        self._socket.setsockopt(zmq.SNDHWM, hwm)
        # Queue only to a connected writer: hellos made while it is down are stale anyway.
        self._socket.setsockopt(zmq.IMMEDIATE, 1)
        self._socket.connect(endpoint)
        self._next_hello = 0.0
        self.seq = 0  # the last sequence number published, reported in hellos
        self.fetches = 0
        self.bad_messages = 0

    def poll(self) -> None:
        """Answer waiting fetches and send a hello when due; never blocks."""
        # EVENTS instead of Socket.poll(0): the loop asks every turn (~30/s), and poll() builds
        # a Poller each time (~3x the cost in the profile) to answer the same question.
        while int(self._socket.get(zmq.EVENTS)) & zmq.POLLIN:
            self._handle(self._socket.recv_multipart())
        now = self._clock.monotonic()
        if now >= self._next_hello:
            self._next_hello = now + self._interval
            first, last = self._buffer.span()
            hello = Hello(self._symbol, self._session, self.seq, first, last)
            self._send([HELLO, encode_hello(hello)])

    def close(self) -> None:
        self._socket.close(linger=0)

    def _handle(self, frames: list[bytes]) -> None:
        if len(frames) != 2 or frames[0] != FETCH:
            self.bad_messages += 1
            log.error("backfill: dropped a message that is not [fetch, payload]: %r", frames[:1])
            return
        try:
            fetch = decode_fetch(frames[1])
        except DecodeError as exc:
            self.bad_messages += 1
            log.error("backfill: dropped a bad fetch: %s", exc)
            return
        if fetch.symbol != self._symbol:
            self.bad_messages += 1
            log.error("backfill: fetch for %s reached the %s collector", fetch.symbol, self._symbol)
            return
        records = self._buffer.between(fetch.first, fetch.last)
        for _, payload in records:
            self._send([RECORD, payload])
        self._send([DONE, encode_done(Done(self._symbol, fetch.first, fetch.last, len(records)))])
        self.fetches += 1
        log.info("backfill: sent %d records for %d..%d", len(records), fetch.first, fetch.last)

    def _send(self, frames: list[bytes]) -> None:
        try:
            self._socket.send_multipart(frames, flags=zmq.NOBLOCK)
        except zmq.Again:
            log.debug("backfill: no writer connected, dropped %r", frames[0])
