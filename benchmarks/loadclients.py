"""The client side of the load benchmark: processes of threads, each thread one QueryClient.

Each thread is a closed-loop client: it sends a request drawn from the mix, waits for the
reply, records its round trip and sends the next one at once, or after a think time drawn
uniformly from 0..2x ``think`` when that is set (after a BUSY reply it pauses
``BUSY_PAUSE`` seconds first, as a polite client backs off). Threads of one process share a
ZeroMQ context but never a socket, so every client is its own TCP connection (its own source
port); with ``source`` set, its own loopback source address too.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from typing import Any

import zmq

from booksnap.client import QueryClient, QueryFailed, QueryTimeout
from shared.protocol import BUSY

BUSY_PAUSE = 0.01
TIMEOUT = 30.0

# (kind, method, params without symbol/end); ``end`` is added for the stored-data methods.
Kind = tuple[str, str, dict[str, Any]]


def mix(symbol: str, end: int, hours: int) -> list[Kind]:
    """The request kinds, drawn with equal weight: two live, four on stored data."""
    stored = {"symbol": symbol, "end": end}
    return [
        ("orderbook_l1 (live)", "orderbook_l1", {"symbol": symbol}),
        ("orderbook_l2 20 (live)", "orderbook_l2", {"symbol": symbol}),
        ("order flow 60 s", "get_order_flow", {**stored, "window_duration_secs": 60}),
        ("health 60 s", "get_microstructure_health", {**stored, "window_duration_secs": 60}),
        (
            f"volume profile {hours} h",
            "get_volume_profile",
            {**stored, "duration_hours": hours, "tick_size": "10"},
        ),
        ("market quality 300 s", "get_market_quality", {**stored, "window_duration_secs": 300}),
    ]


@dataclass
class Tally:
    """What the clients of one process saw: round trips of good replies, busy and other errors."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    busy: dict[str, int] = field(default_factory=dict)
    busy_by_reason: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    timeouts: int = 0

    def merge(self, other: Tally) -> None:
        for mine, theirs in (
            (self.busy, other.busy),
            (self.busy_by_reason, other.busy_by_reason),
            (self.errors, other.errors),
        ):
            for key, count in theirs.items():
                mine[key] = mine.get(key, 0) + count
        for key, values in other.seconds.items():
            self.seconds.setdefault(key, []).extend(values)
        self.timeouts += other.timeouts


def _reason(message: str) -> str:
    # The pool's two BUSY messages: the whole process's cap, or this client's own cap.
    return "per-client cap" if message.startswith("this client") else "process cap"


def _client(  # noqa: PLR0917  (a thread target: positional args)
    endpoint: str,
    context: zmq.Context[zmq.Socket[bytes]],
    kinds: list[Kind],
    start_at: float,
    stop_at: float,
    seed: int,
    think: float,
    tally: Tally,
    lock: threading.Lock,
) -> None:
    rng = random.Random(seed)
    mine = Tally()
    with QueryClient(endpoint, timeout=TIMEOUT, context=context) as client:
        client.request("orderbook_l1", {"symbol": kinds[0][2]["symbol"]})  # connected first
        # Paced clients start spread over one think time, as independent users would.
        time.sleep(max(0.0, start_at - time.time()) + rng.uniform(0, think))
        while time.time() < stop_at:
            label, method, params = rng.choice(kinds)
            started = time.perf_counter()
            try:
                client.request(method, params)
            except QueryFailed as exc:
                if exc.code == BUSY:
                    mine.busy[label] = mine.busy.get(label, 0) + 1
                    reason = _reason(exc.message)
                    mine.busy_by_reason[reason] = mine.busy_by_reason.get(reason, 0) + 1
                    time.sleep(BUSY_PAUSE)
                else:
                    mine.errors[exc.name] = mine.errors.get(exc.name, 0) + 1
                continue
            except QueryTimeout:
                mine.timeouts += 1
                continue
            mine.seconds.setdefault(label, []).append(time.perf_counter() - started)
            if think:  # uniform around the mean, so the clients do not march in step
                time.sleep(rng.uniform(0, 2 * think))
    with lock:
        tally.merge(mine)


def run_clients(  # noqa: PLR0917  (one call site, all positional by design)
    endpoints: list[str],
    kinds: list[Kind],
    start_at: float,
    stop_at: float,
    seed: int,
    think: float,
    out: Queue[Tally],
) -> None:
    """One thread per endpoint until ``stop_at`` (wall time); the merged Tally goes on ``out``."""
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    tally, lock = Tally(), threading.Lock()
    threads = [
        threading.Thread(
            target=_client,
            args=(endpoint, context, kinds, start_at, stop_at, seed * 1000 + i, think, tally, lock),
            daemon=True,
        )
        for i, endpoint in enumerate(endpoints)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(stop_at - time.time() + TIMEOUT + 10)
    context.term()
    out.put(tally)
