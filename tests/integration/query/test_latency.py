"""L1 latency while heavy analytics run on the database worker (the figure goes in the report)."""

from __future__ import annotations

import threading
import time

from booksnap.client import QueryClient
from shared.codec import book_topic, encode
from tests.integration.query.conftest import publish_until
from tests.integration.query.dbdata import Primary, live_book

L1_REQUESTS = 400


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure_l1(client: QueryClient, count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        client.request("orderbook_l1", {"symbol": "BTCUSDT"})
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def test_l1_p99_stays_low_while_heavy_requests_run(query_process, live_pub):
    primary = Primary(query_process.data_dir)
    now = int(time.time())
    primary.store(["BTCUSDT"], range(now - 7300, now + 120))
    book = live_book("BTCUSDT", now, seq=1)
    heavy_done: list[float] = []
    stop = threading.Event()

    def heavy_load() -> None:
        with QueryClient(query_process.endpoint, timeout=60) as heavy:
            while not stop.is_set():
                started = time.perf_counter()
                heavy.request("get_liquidity_vacuums", {"symbol": "BTCUSDT", "duration_hours": 2})
                heavy.request("get_volume_profile", {"symbol": "BTCUSDT", "duration_hours": 2})
                heavy_done.append(time.perf_counter() - started)

    with QueryClient(query_process.endpoint, timeout=10) as client:
        publish_until(
            live_pub,
            [book_topic("BTCUSDT"), encode(book)],
            lambda: client.request("orderbook_l1", {"symbol": "BTCUSDT"}),
        )
        idle = measure_l1(client, L1_REQUESTS)
        loader = threading.Thread(target=heavy_load)
        loader.start()
        try:
            time.sleep(0.3)  # let the first heavy request get going
            busy = measure_l1(client, L1_REQUESTS)
        finally:
            stop.set()
            loader.join(120)
    primary.close()

    print(
        f"\nL1 idle: p50 {percentile(idle, 0.5):.2f} ms, p99 {percentile(idle, 0.99):.2f} ms; "
        f"during heavy requests: p50 {percentile(busy, 0.5):.2f} ms, "
        f"p99 {percentile(busy, 0.99):.2f} ms, max {max(busy):.1f} ms; "
        f"heavy pair took {sum(heavy_done) / max(1, len(heavy_done)):.2f} s on average"
    )
    assert heavy_done, "the heavy requests never completed"
    assert percentile(busy, 0.99) < 200.0
