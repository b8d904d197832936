"""Binance's limits: REST request weight per IP per minute, and WebSocket incoming message rate."""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass

MINUTE = 60.0
STRIKES_BEFORE_BAN = 3  # requests sent while already rejected with 429 before the 418 ban


def depth_weight(limit: int) -> int:
    """Request weight of ``GET /api/v3/depth`` for a ``limit`` (Binance's table)."""
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the limiter says about one request."""

    status: int  # 200, 429 (over the limit) or 418 (banned for not backing off)
    used: int  # X-MBX-USED-WEIGHT-1M after this request
    retry_after: int  # seconds, for 429/418


@dataclass
class _Client:
    minute: int = -1
    used: int = 0
    strikes: int = 0
    banned_until: float = 0.0


class WeightLimiter:
    """A fixed one-minute weight window per client IP, as ``X-MBX-USED-WEIGHT-1M`` reports it.

    Over the limit a request gets 429 with ``Retry-After`` (seconds to the next minute); a
    client that keeps sending while rejected is banned with 418 for ``ban_seconds``.
    """

    def __init__(self, limit: int = 6000, ban_seconds: float = 120.0) -> None:
        self.limit = limit
        self.ban_seconds = ban_seconds
        self.clients: dict[str, _Client] = {}
        self.rejected = 0
        self.statuses: Counter[int] = Counter()  # replies by status since the start
        self.charged = 0  # weight charged since the start, all clients

    def charge(self, ip: str, weight: int, now: float) -> Verdict:
        verdict = self._charge(ip, weight, now)
        self.statuses[verdict.status] += 1
        if verdict.status == 200:
            self.charged += weight
        return verdict

    def _charge(self, ip: str, weight: int, now: float) -> Verdict:
        client = self.clients.setdefault(ip, _Client())
        minute = int(now // MINUTE)
        if minute != client.minute:
            client.minute, client.used = minute, 0
        if client.banned_until > now:
            self.rejected += 1
            return Verdict(418, client.used, math.ceil(client.banned_until - now))
        if client.used + weight > self.limit:
            self.rejected += 1
            client.strikes += 1
            if client.strikes > STRIKES_BEFORE_BAN:
                client.banned_until = now + self.ban_seconds
                client.strikes = 0
                return Verdict(418, client.used, math.ceil(self.ban_seconds))
            return Verdict(429, client.used, max(1, math.ceil((minute + 1) * MINUTE - now)))
        client.used += weight
        client.strikes = 0
        return Verdict(200, client.used, 0)

    def used(self, ip: str, now: float) -> int:
        client = self.clients.get(ip)
        if client is None or client.minute != int(now // MINUTE):
            return 0
        return client.used

    def describe(self, now: float) -> dict[str, object]:
        return {
            ip: {"used_weight_1m": self.used(ip, now), "banned": c.banned_until > now}
            for ip, c in self.clients.items()
        }


class MessageRate:
    """At most ``limit`` incoming messages (pings, pongs, JSON requests) in any 1 s window."""

    def __init__(self, limit: int = 5) -> None:
        self.limit = limit
        self.times: deque[float] = deque()

    def hit(self, now: float) -> bool:
        """Record one message; False once the connection is over the limit."""
        self.times.append(now)
        while self.times and self.times[0] <= now - 1.0:
            self.times.popleft()
        return len(self.times) <= self.limit
