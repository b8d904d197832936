"""The writer's side of the backfill channel (protocol in ``shared/backfill.py``).

The writer binds a ROUTER; each collector connects a DEALER whose routing id is its symbol and
says ``hello`` every few seconds. The writer asks for missing seconds with ``fetch``, one range
in flight per symbol, and receives ``record`` messages (validated like live ones by the service)
then ``done``. ROUTER_MANDATORY makes a fetch to a vanished collector fail loudly (EHOSTUNREACH)
instead of vanishing; ROUTER_HANDOVER lets a restarted collector take its symbol's id over.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field

import zmq

from shared import backfill as proto
from shared.codec import MAX_PAYLOAD, encode
from shared.errors import DecodeError
from shared.model import SYMBOL_PATTERN
from shared.multipart import drain
from shared.security import SocketSecurity

log = logging.getLogger(__name__)
KEEP_FRAMES = 5  # frames kept of a message (a valid one has 3 or 4): the rest are dropped

MAX_ATTEMPTS = 3
MAX_QUEUED_RANGES = 256  # per symbol; older wishes are dropped (and logged) beyond that


@dataclass(frozen=True, slots=True)
class BackfillRecord:
    """A ``record`` from the collector of ``symbol``: [book, trades] frames, not validated yet."""

    symbol: str
    frames: list[bytes]
    # The range in flight for that symbol when the record arrived (records precede their
    # "done", which clears it, possibly within the same receive() call), None if unrequested.
    fetched: tuple[int, int] | None


@dataclass(slots=True)
class _Peer:
    hello: proto.Hello | None = None
    wanted: deque[tuple[int, int]] = field(default_factory=deque)
    in_flight: tuple[int, int] | None = None
    deadline: float = 0.0
    attempts: int = 0


class BackfillServer:
    """Owns the ROUTER socket: tracks collectors' buffers and fetches ranges from them."""

    def __init__(
        self,
        context: zmq.Context[zmq.Socket[bytes]],
        endpoint: str,
        fetch_timeout: float,
        security: SocketSecurity,
    ) -> None:
        self.socket: zmq.Socket[bytes] = context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.socket.setsockopt(zmq.ROUTER_HANDOVER, 1)
        self.socket.setsockopt(
            zmq.MAXMSGSIZE, MAX_PAYLOAD
        )  # per frame; a larger one drops the peer
        try:
            security.serve(self.socket, "backfill", endpoint, "--backfill-endpoint")
            self.socket.bind(endpoint)
        except BaseException:
            self.socket.close(linger=0)
            raise
        self.endpoint = endpoint
        self.fetch_timeout = fetch_timeout
        self._peers: dict[str, _Peer] = {}
        self.fetches = 0
        self.unrecoverable = 0  # seconds asked for that no collector could give back
        self.lost: dict[str, int] = {}  # the same, per symbol (for metrics)

    def want(self, symbol: str, first: int, last: int) -> None:
        """Queue seconds ``first..last`` of ``symbol`` to be fetched as soon as possible."""
        peer = self._peers.setdefault(symbol, _Peer())
        if len(peer.wanted) >= MAX_QUEUED_RANGES:
            old_first, old_last = peer.wanted.popleft()
            self._give_up(symbol, old_first, old_last, "too many ranges queued")
        peer.wanted.append((first, last))

    def receive(self, now: float) -> list[proto.Hello | BackfillRecord | str]:
        """Read every waiting message; return hellos and records, or reject reasons (str)."""
        events: list[proto.Hello | BackfillRecord | str] = []
        # At most 10,000 (a flood cannot starve the rest of the loop), each at most KEEP_FRAMES.
        for frames in drain(self.socket, KEEP_FRAMES, 10_000):
            events.append(self._handle(frames, now))
        return events

    def _handle(self, frames: list[bytes], now: float) -> proto.Hello | BackfillRecord | str:
        if len(frames) not in (3, 4):
            count = f"more than {KEEP_FRAMES - 1}" if len(frames) == KEEP_FRAMES else len(frames)
            return f"backfill message with {count} frames, expected [id, kind, payload...]"
        routing_id, kind, *payload_frames = frames
        symbol = routing_id.decode("ascii", "replace")
        if not SYMBOL_PATTERN.match(symbol):
            return f"backfill peer id {routing_id[:24]!r} is not a symbol"
        if (kind == proto.RECORD) != (len(payload_frames) == 2):
            return f"backfill {kind[:10]!r} from {symbol} with {len(payload_frames)} payload frames"
        payload = payload_frames[0]
        try:
            if kind == proto.RECORD:
                peer = self._peers.get(symbol)
                return BackfillRecord(symbol, payload_frames, peer.in_flight if peer else None)
            if kind == proto.HELLO:
                hello = proto.decode_hello(payload)
                self._check_sender(hello.symbol, symbol)
                self._peers.setdefault(symbol, _Peer()).hello = hello
                return hello
            if kind == proto.DONE:
                self._on_done(proto.decode_done(payload), symbol)
                return ""
        except DecodeError as exc:
            return f"backfill {kind[:10]!r} from {symbol}: {exc}"
        return f"backfill message of unknown kind {kind[:20]!r} from {symbol}"

    @staticmethod
    def _check_sender(claimed: str, routing_symbol: str) -> None:
        if claimed != routing_symbol:
            raise DecodeError(f"peer {routing_symbol} speaks for {claimed}")

    def _on_done(self, done: proto.Done, symbol: str) -> None:
        self._check_sender(done.symbol, symbol)
        peer = self._peers.setdefault(symbol, _Peer())
        if peer.in_flight != (done.first, done.last):
            return  # a late answer to a fetch that already timed out
        expected = done.last - done.first + 1
        if done.count < expected:
            log.warning(
                "Backfill of %s %d..%d returned %d of %d seconds; the rest is not in the "
                "collector's buffer",
                symbol,
                done.first,
                done.last,
                done.count,
                expected,
            )
            self.unrecoverable += expected - done.count
            self.lost[symbol] = self.lost.get(symbol, 0) + expected - done.count
        else:
            log.info(
                "Backfill of %s %d..%d complete (%d seconds)",
                symbol,
                done.first,
                done.last,
                done.count,
            )
        peer.in_flight, peer.attempts = None, 0

    def pump(self, monotonic: float) -> None:
        """Send the next fetch of every symbol that has none in flight; retry timed-out ones."""
        for symbol, peer in self._peers.items():
            if peer.in_flight is not None:
                if monotonic < peer.deadline:
                    continue
                first, last = peer.in_flight
                peer.in_flight = None
                if peer.attempts >= MAX_ATTEMPTS:
                    self._give_up(symbol, first, last, f"no answer after {peer.attempts} attempts")
                    peer.attempts = 0
                    continue
                log.warning("Backfill fetch of %s %d..%d timed out; retrying", symbol, first, last)
                peer.wanted.appendleft((first, last))
            if peer.hello is None or not peer.wanted:
                continue
            self._send_next(symbol, peer, monotonic)

    def _send_next(self, symbol: str, peer: _Peer, monotonic: float) -> None:
        assert peer.hello is not None
        while peer.wanted:
            first, last = peer.wanted.popleft()
            buffer_first = peer.hello.first
            if buffer_first == 0 or last < buffer_first:
                self._give_up(symbol, first, last, not_buffered(peer.hello, last))
                continue
            if first < buffer_first:
                self._give_up(
                    symbol, first, buffer_first - 1, not_buffered(peer.hello, buffer_first - 1)
                )
                first = buffer_first
            fetch = proto.Fetch(symbol, first, last)
            try:
                self.socket.send_multipart(
                    [symbol.encode("ascii"), proto.FETCH, encode(fetch)], zmq.NOBLOCK
                )
            except zmq.ZMQError as exc:
                if exc.errno == zmq.EHOSTUNREACH:
                    log.warning(
                        "Collector of %s is not connected; fetch %d..%d waits for its hello",
                        symbol,
                        first,
                        last,
                    )
                else:
                    log.error("Cannot send a backfill fetch to %s: %s", symbol, exc)
                peer.hello = None  # wait for the collector to say hello again
                peer.wanted.appendleft((first, last))
                return
            log.info("Fetching %s seconds %d..%d from its collector's buffer", symbol, first, last)
            peer.in_flight, peer.deadline = (first, last), monotonic + self.fetch_timeout
            peer.attempts += 1
            self.fetches += 1
            return

    def _give_up(self, symbol: str, first: int, last: int, why: str) -> None:
        log.error("Seconds %d..%d of %s are lost: %s", first, last, symbol, why)
        self.unrecoverable += last - first + 1
        self.lost[symbol] = self.lost.get(symbol, 0) + last - first + 1

    def pending_ranges(self) -> int:
        """Ranges queued or in flight, over all symbols (for the status record)."""
        return sum(len(p.wanted) + (p.in_flight is not None) for p in self._peers.values())

    def close(self) -> None:
        self.socket.close(linger=0)


def not_buffered(hello: proto.Hello, last: int) -> str:
    """Why seconds up to ``last`` cannot come from the buffer of the collector that said
    ``hello``: it started after them (its session is its start time in ns), or they have
    left its buffer."""
    started = hello.session // 1_000_000_000
    if started > last:
        return (
            f"never collected: its collector started at second {started}, after them "
            "(no collector ran for the symbol then, or the one that did has died)"
        )
    if hello.first == 0:
        return "not in the collector's buffer, which is empty"
    return f"no longer in the collector's buffer (it holds seconds {hello.first}..{hello.last})"
