"""REST depth snapshots: one request at a time on a daemon thread, within Binance's limits.

The loop never blocks on HTTP: ``SnapshotFetcher.start()`` sends the request on a thread and
``take()`` hands back the outcome once it is there. ``RestGate`` decides when the next request may
go: never while a 429/418 ``Retry-After`` holds, never above the weight budget of the current
minute (from ``X-MBX-USED-WEIGHT-1M``), with a capped backoff after failures, and only once the
host's shared bucket (``collector/budget.py``) granted the request's weight.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from collector.budget import HostBudget
from collector.wire import DepthSnapshot, MalformedFrame, parse_snapshot
from shared.clock import Clock

log = logging.getLogger(__name__)

BAN_WITHOUT_RETRY_AFTER = 120.0  # s to wait after a 418 that names no Retry-After


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class FetchOutcome:
    """A snapshot, or why there is none."""

    snapshot: DepthSnapshot | None
    error: str = ""
    status: int = 0


def http_get(url: str, timeout: float) -> HttpReply:
    """GET with urllib; HTTP error statuses come back as replies, network failures raise OSError."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpReply(response.status, dict(response.headers.items()), response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return HttpReply(exc.code, dict(exc.headers.items()), exc.read())


class RestGate:
    """When may the next REST request go? Tracks Retry-After, used weight and failures."""

    def __init__(
        self,
        clock: Clock,
        cost: int,
        budget: int,
        backoff_max: float = 30.0,
        shared: HostBudget | None = None,
    ) -> None:
        self._clock = clock
        self.cost = cost
        self.budget = budget
        self.shared = shared
        self.waits = 0  # requests the shared bucket made wait
        self._granted_at: float | None = None  # wall-clock s of a booked grant not yet used
        self._backoff_max = backoff_max
        self._blocked_until = 0.0  # wall-clock s
        self._used = 0  # X-MBX-USED-WEIGHT-1M as last reported
        self._used_minute = -1  # the wall-clock minute that figure belongs to
        self.failures = 0

    def delay(self) -> float:
        """Seconds until a request may go (0 when it may go now)."""
        now = self._clock.now()
        wait = max(0.0, self._blocked_until - now)
        minute = int(now // 60)
        if minute == self._used_minute and self._used + self.cost > self.budget:
            wait = max(wait, (minute + 1) * 60 - now)
        return wait

    def acquire(self) -> bool:
        """May a request go now? Takes its weight from the host's bucket when it may."""
        if self.delay() > 0.0:
            return False
        if self.shared is None:
            return True
        now = self._clock.now()
        if self._granted_at is None:
            wait = self.shared.reserve(self.cost)
            if wait <= 0.0:
                return True
            self.waits += 1
            self._granted_at = now + wait
            log.info("host REST budget: this snapshot may go in %.2f s", wait)
        if now < self._granted_at:
            return False
        self._granted_at = None
        return True

    def record(self, reply: HttpReply | None) -> None:
        """Learn from a reply (None: the request failed before any reply)."""
        now = self._clock.now()
        if reply is not None:
            used = _header(reply.headers, "x-mbx-used-weight-1m")
            if used is not None and used.isdigit():
                self._used = int(used)
                self._used_minute = int(now // 60)
            if reply.status in (418, 429):
                retry_after = _retry_after(reply.headers)
                if retry_after is None:
                    retry_after = BAN_WITHOUT_RETRY_AFTER if reply.status == 418 else 60.0
                self._blocked_until = max(self._blocked_until, now + retry_after)
                log.warning(
                    "REST %d: backing off %.1f s as Retry-After asks", reply.status, retry_after
                )
                return
            if reply.status == 200:
                self.failures = 0
                return
        self.failures += 1
        backoff = min(self._backoff_max, 0.5 * 2 ** min(self.failures - 1, 16))
        self._blocked_until = max(self._blocked_until, now + backoff)


class SnapshotFetcher:
    """Fetches one depth snapshot at a time on a daemon thread."""

    def __init__(
        self,
        url: str,
        gate: RestGate,
        timeout: float,
        get: Callable[[str, float], HttpReply] = http_get,
    ) -> None:
        self.url = url
        self.limit = 0  # levels asked for (0: whatever ``url`` says)
        self.gate = gate
        self._timeout = timeout
        self._get = get
        self._thread: threading.Thread | None = None
        self._outcome: FetchOutcome | None = None
        self.requests = 0

    def set_limit(self, limit: int, weight: int) -> None:
        """Ask for ``limit`` levels from now on, at Binance's ``weight`` for that limit."""
        self.limit = limit
        self.gate.cost = weight

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def ready(self) -> bool:
        """True when no request is in flight and the gate lets one go."""
        return self._thread is None and self.gate.delay() == 0.0

    def try_start(self) -> bool:
        """Start a request if none is in flight and the gate (and the host's bucket) allow."""
        if self._thread is not None or not self.gate.acquire():
            return False
        self.start()
        return True

    def start(self) -> None:
        """Send the request on a daemon thread (daemon: shutdown never waits for HTTP)."""
        self.requests += 1
        self._outcome = None
        self._thread = threading.Thread(target=self._run, name="rest-snapshot", daemon=True)
        self._thread.start()

    def take(self) -> FetchOutcome | None:
        """The outcome of the request in flight once it is complete, else None."""
        thread = self._thread
        if thread is None or thread.is_alive():
            return None
        self._thread = None
        return self._outcome

    def _run(self) -> None:
        try:
            url = f"{self.url}&limit={self.limit}" if self.limit else self.url
            reply = self._get(url, self._timeout)
        except (OSError, ValueError) as exc:  # URLError, timeouts, resets are OSErrors
            self.gate.record(None)
            self._outcome = FetchOutcome(None, f"request failed: {exc}")
            return
        self.gate.record(reply)
        if reply.status != 200:
            self._outcome = FetchOutcome(
                None, f"HTTP {reply.status}: {reply.body[:200]!r}", reply.status
            )
            return
        try:
            self._outcome = FetchOutcome(parse_snapshot(reply.body), status=200)
        except MalformedFrame as exc:
            self._outcome = FetchOutcome(None, f"malformed depth: {exc}", 200)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value.strip()
    return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = _header(headers, "retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
