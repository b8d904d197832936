"""The WebSocket side: one connection per symbol, reconnecting with capped backoff and a watchdog.

websocket-client opens the connection and sends; its frames are read by ``FrameSocket``
(``collector/wsframes.py``), every frame that arrived per call. A ping is answered with its pong
here (so do Binance's rules: pong within a minute), and counts as a sign of life for the watchdog.
The collector's own pings (``ping()``) prove a quiet connection alive: their pongs are kept for
``take_pongs()`` (see ``collector/liveness.py``).

A *handover* opens a second connection beside the first (before Binance's 24-hour cut, or when
the server announces ``serverShutdown``); the service reads both until the new one has caught up
with the book and then calls ``promote()``, so the book stays in sync across the switch.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import websocket

from collector.wsframes import BINARY, PING, PONG, TEXT, FrameSocket
from shared.clock import Clock

log = logging.getLogger(__name__)

ACTIVE = "active"
STANDBY = "standby"


@dataclass(frozen=True, slots=True)
class Frame:
    """One text frame as received."""

    source: str  # ACTIVE or STANDBY: which connection it came from
    text: str | bytes
    recv_ms: int  # local receive time, ms


class ConnectionLost(Exception):
    """The connection closed or failed."""


MAX_PONGS = 16  # pongs kept between two looks of the loop; a flood of unsolicited ones is cut


class Connection:
    """One open WebSocket and its timestamps."""

    def __init__(self, ws: Any, clock: Clock, number: int) -> None:
        self.ws = ws
        self.number = number  # counts connections of this process, for the logs
        self.opened = clock.monotonic()
        self.last_frame = self.opened
        self.keepalive = self.opened  # when the last keep-alive ping went out
        self.pongs: list[bytes] = []  # payloads of pongs received, oldest first
        self.closed_by_server = False  # a close frame came (after the messages last returned)
        self._clock = clock

    def recv(self, timeout: float) -> list[bytes]:
        """The data messages that arrived within ``timeout`` ([] when none, or only control
        frames, did); answers pings and keeps pongs."""
        try:
            frames = self.ws.read(timeout)
            if not frames:
                return []
            self.last_frame = self._clock.monotonic()
            texts = []
            for opcode, data in frames:
                if opcode in (TEXT, BINARY):
                    texts.append(data)
                elif opcode == PING:
                    self.ws.pong(data)
                elif opcode == PONG:
                    if len(self.pongs) < MAX_PONGS:
                        self.pongs.append(data[:32])
                elif texts:  # CLOSE after messages: they are delivered, the next call raises
                    self.closed_by_server = True
                    break
                else:
                    raise ConnectionLost("server closed the connection")
        except (websocket.WebSocketException, OSError) as exc:
            raise ConnectionLost(f"{type(exc).__name__}: {exc}") from exc
        return texts

    def send(self, text: str) -> None:
        """Send a text frame (a control request); ConnectionLost when the socket fails."""
        try:
            self.ws.send(text)
        except (websocket.WebSocketException, OSError) as exc:
            raise ConnectionLost(f"{type(exc).__name__}: {exc}") from exc

    def ping(self, payload: bytes) -> None:
        """Send a ping; ConnectionLost when the socket fails."""
        try:
            self.ws.ping(payload)
        except (websocket.WebSocketException, OSError) as exc:
            raise ConnectionLost(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        with contextlib.suppress(websocket.WebSocketException, OSError):
            self.ws.close(0.2)


def open_websocket(url: str, timeout: float) -> FrameSocket:
    """Open a WebSocket with websocket-client and read it with ``FrameSocket`` (the seam tests
    may replace). Text frames stay bytes: ``orjson.loads`` rejects invalid UTF-8 in C."""
    ws = websocket.create_connection(url, timeout=timeout, enable_multithread=False)
    return FrameSocket(ws)


class Feed:
    """Keeps one connection (two during a handover) to the combined stream."""

    def __init__(
        self,
        url: str,
        clock: Clock,
        *,
        watchdog: float,
        max_age: float,
        backoff_min: float,
        backoff_max: float,
        connect_timeout: float = 3.0,
        connect: Callable[[str, float], Any] = open_websocket,
    ) -> None:
        self.url = url
        self._clock = clock
        self._watchdog = watchdog
        self._max_age = max_age
        self._backoff_min = backoff_min
        self._backoff_max = backoff_max
        self._connect_timeout = connect_timeout
        self._connect = connect
        self.active: Connection | None = None
        self.standby: Connection | None = None
        self._next_attempt = 0.0  # monotonic time of the next connection attempt
        self._failures = 0  # consecutive failed or short-lived connections
        self._count = 0
        self.reconnects = 0
        self.lost = False  # set when the active connection was lost; the service resets it
        self._handover_not_before = 0.0  # monotonic; after a failed handover attempt

    # --- the loop's entry point -----------------------------------------------------------------

    def poll(self, timeout: float) -> list[Frame]:
        """Connect if due, then receive what arrives within ``timeout`` s."""
        now = self._clock.monotonic()
        if self.active is None:
            if now < self._next_attempt:
                self._clock.sleep(min(timeout, self._next_attempt - now))
                return []
            self.active = self._open("connect")
            return []
        frames: list[Frame] = []
        if self.standby is not None:
            # Read both with short slices; the new connection only buffers until promoted.
            timeout = min(timeout, 0.05)
            self._read(STANDBY, timeout, frames)
        self._read(ACTIVE, timeout, frames)
        self._check_watchdog()
        return frames

    def needs_handover(self) -> bool:
        """True when the active connection is older than the configured maximum age."""
        return (
            self.active is not None
            and self.standby is None
            and self._clock.monotonic() >= self._handover_not_before
            and self._clock.monotonic() - self.active.opened >= self._max_age
        )

    def start_handover(self, reason: str) -> None:
        """Open the replacement beside the active connection."""
        if self.standby is not None or self.active is None:
            return
        log.info("opening a new connection beside #%d: %s", self.active.number, reason)
        self.standby = self._open("handover")
        if self.standby is None:
            self._handover_not_before = self._clock.monotonic() + max(1.0, self._backoff_min * 4)

    def ping(self, payload: bytes) -> None:
        """Ping the active connection (a failure drops it, as a failed receive does)."""
        if self.active is None:
            return
        try:
            self.active.ping(payload)
        except ConnectionLost as exc:
            self._drop(ACTIVE, str(exc))

    def send(self, text: str) -> None:
        """Send a control request on the active connection (a failure drops it)."""
        if self.active is None:
            return
        try:
            self.active.send(text)
        except ConnectionLost as exc:
            self._drop(ACTIVE, str(exc))

    def take_pongs(self) -> list[bytes]:
        """Payloads of the pongs the active connection received since the last call."""
        if self.active is None or not self.active.pongs:
            return []
        pongs, self.active.pongs = self.active.pongs, []
        return pongs

    def promote(self) -> None:
        """Make the standby connection the active one and close the old one."""
        if self.standby is None:
            return
        old, self.active, self.standby = self.active, self.standby, None
        if old is not None:
            old.close()
            log.info("switched from connection #%d to #%d", old.number, self.active.number)

    def close(self) -> None:
        for conn in (self.standby, self.active):
            if conn is not None:
                conn.close()
        self.active = self.standby = None

    # --- internals ------------------------------------------------------------------------------

    def _read(self, source: str, timeout: float, frames: list[Frame]) -> None:
        conn = self.active if source == ACTIVE else self.standby
        if conn is None:
            return
        try:
            texts = conn.recv(timeout)
        except ConnectionLost as exc:
            self._drop(source, str(exc))
            return
        if texts:
            recv_ms = int(self._clock.now() * 1000)
            frames.extend(Frame(source, text, recv_ms) for text in texts)
            if source == ACTIVE and self._failures and conn.last_frame - conn.opened > 5.0:
                self._failures = 0  # it delivered data for a while: the next drop starts over

    def _check_watchdog(self) -> None:
        # A quiet symbol's stream may say nothing for minutes while the connection is fine:
        # halfway to the watchdog a ping asks for a sign of life, and its pong is a frame. Only
        # a connection that answers nothing (a stalled server, a dead path) is replaced.
        now = self._clock.monotonic()
        for source, conn in ((ACTIVE, self.active), (STANDBY, self.standby)):
            if conn is None:
                continue
            idle = now - conn.last_frame
            if idle >= self._watchdog:
                self._drop(source, f"no frame for {idle:.1f} s, pings unanswered (watchdog)")
            elif idle >= self._watchdog / 2 and conn.keepalive <= conn.last_frame:
                conn.keepalive = now
                try:
                    conn.ping(b"keepalive")
                except ConnectionLost as exc:
                    self._drop(source, str(exc))

    def _drop(self, source: str, reason: str) -> None:
        conn = self.active if source == ACTIVE else self.standby
        if conn is None:
            return
        conn.close()
        if source == STANDBY:
            log.warning("new connection #%d lost before the switch: %s", conn.number, reason)
            self.standby = None
            return
        if self.standby is not None:
            # The replacement is already open: switch now rather than reconnect.
            log.warning("connection #%d lost during a handover: %s", conn.number, reason)
            self.active, self.standby = self.standby, None
            self.lost = True
            return
        self.active = None
        self.lost = True
        self._schedule(f"connection #{conn.number} lost: {reason}")

    def _schedule(self, reason: str) -> None:
        # Capped exponential backoff with full jitter in [delay/2, delay].
        base = min(self._backoff_max, self._backoff_min * 2 ** min(self._failures, 20))
        delay = random.uniform(base / 2, base)
        self._failures += 1
        self.reconnects += 1
        self._next_attempt = self._clock.monotonic() + delay
        log.warning("%s; reconnecting in %.2f s (attempt %d)", reason, delay, self._failures)

    def _open(self, why: str) -> Connection | None:
        self._count += 1
        try:
            ws = self._connect(self.url, self._connect_timeout)
        except (websocket.WebSocketException, OSError) as exc:
            if why == "handover":
                log.warning("could not open the new connection: %s", exc)
                return None
            self._schedule(f"connect to {self.url} failed: {exc}")
            return None
        conn = Connection(ws, self._clock, self._count)
        log.info("connected #%d to %s (%s)", conn.number, self.url, why)
        return conn
