"""Which ended seconds the connection vouches for: silence on a live connection means "no change".

Binance sends ``@depth@100ms`` only when the book changed, so a quiet symbol's stream says
nothing for seconds at a time. A record of second S (the book captured at its end, boundary
B = S + 1) is stored only when the connection proves it delivered everything the server sent
up to ``B + ping_after`` (by then the 100 ms batch that closes S has been sent):

- a frame received from the active connection at or after ``B + ping_after``, or
- the pong to a ping sent at or after ``B + ping_after``: the server writes the pong behind
  every frame it wrote before it read the ping, and TCP keeps that order, so the pong arrives
  after all of them.

A ping goes out ``ping_wait`` after the batch is due if nothing has vouched by then (at most one
ping per ended second). The collector waits until its record is due to be sent anyway (the trade
grace): a busy symbol's next frame usually vouches first, so it needs no ping and no wake-up of
its own for one (a wake-up alone costs a collector ~50 us of CPU on this machine). A second
that nothing vouches for within ``pong_timeout`` of its due time gets no record: a connection
that does not answer in time is stale. When the connection is lost, nothing from the next one
can vouch for a second the lost one had to deliver, so those seconds are void. A handover is
different: the new connection is promoted only once its stream has caught up with the book
(``collector/handover.py``), so what it delivers continues the old one and vouches alike; only
the old connection's pings are gone.

Pure: the caller passes the time (local wall clock, s) and sends the pings.
"""

from __future__ import annotations

import enum
import math

MAX_OUTSTANDING = 16  # pings remembered; an older one's pong is ignored (it times out anyway)


class Verdict(enum.Enum):
    VOUCHED = "vouched"
    WAIT = "wait"
    STALE = "stale"


class Liveness:
    """Vouching state of the active connection."""

    def __init__(self, ping_after: float, pong_timeout: float, ping_wait: float = 0.0) -> None:
        self.ping_after = ping_after
        self.pong_timeout = pong_timeout
        self.ping_wait = ping_wait  # s after the due time before a ping asks for the vouching
        self.vouched_until = -math.inf  # local time up to which the connection delivered all
        self._latest_due = -math.inf  # the newest capture's due time
        self._void_until = -math.inf  # captures due at or before this can never be vouched
        self._last_ping = -math.inf  # when the last ping went out
        self._outstanding: dict[bytes, float] = {}  # payload -> sent at
        self._count = 0
        self.pings = 0  # sent since the process started
        self.pongs = 0  # answered

    def due(self, second: int) -> float:
        """The time by which the connection must have delivered second ``second``'s batch."""
        return second + 1 + self.ping_after

    def expect(self, second: int) -> None:
        """A capture of ``second`` waits for its vouching."""
        self._latest_due = max(self._latest_due, self.due(second))

    def on_frame(self, now: float) -> None:
        """Any frame from the active connection proves what was sent before it arrived."""
        self.vouched_until = max(self.vouched_until, now)

    def ping(self, now: float) -> bytes | None:
        """The payload of a ping to send now, or None when none is needed."""
        due = self._latest_due
        if (
            due + self.ping_wait > now
            or due <= self._void_until
            or self.vouched_until >= due
            or self._last_ping >= due
        ):
            return None
        self._count += 1
        payload = b"v%d" % self._count
        if len(self._outstanding) >= MAX_OUTSTANDING:
            self._outstanding.pop(next(iter(self._outstanding)))
        self._outstanding[payload] = now
        self._last_ping = now
        self.pings += 1
        return payload

    def on_pong(self, payload: bytes) -> None:
        """A pong answers its ping (payloads not ours, or forgotten, are ignored)."""
        sent = self._outstanding.pop(payload, None)
        if sent is None:
            return
        self.pongs += 1
        self._outstanding = {p: t for p, t in self._outstanding.items() if t > sent}
        self.vouched_until = max(self.vouched_until, sent)

    def verdict(self, second: int, now: float) -> Verdict:
        """May the record of ``second`` be stored, must it wait, or is it not vouched for?"""
        due = self.due(second)
        if due <= self._void_until:
            return Verdict.STALE
        if self.vouched_until >= due:
            return Verdict.VOUCHED
        if now >= due + self.pong_timeout:
            return Verdict.STALE
        return Verdict.WAIT

    def next_deadline(self) -> float:
        """When the loop must look again: a ping due or a wait that times out (inf: none)."""
        due = self._latest_due
        if due <= self._void_until or self.vouched_until >= due:
            return math.inf
        if self._last_ping < due:
            return due + self.ping_wait
        return due + self.pong_timeout

    def connection_replaced(self) -> None:
        """A handover: the new connection continues the old one; its pings went with it."""
        self._outstanding.clear()
        self._last_ping = -math.inf

    def connection_changed(self) -> None:
        """The active connection is new: what the old one owed can no longer be vouched for."""
        self._void_until = self._latest_due
        self.vouched_until = -math.inf
        self._outstanding.clear()
        self._last_ping = -math.inf
