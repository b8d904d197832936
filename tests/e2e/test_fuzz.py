"""The fuzz campaign: hostile messages on every endpoint of the real running pipeline.

While the simulator, collectors, writer and query process run, fuzzers send generated messages
(hypothesis strategies first, then mutations of real records captured from the feed) to the
writer's ingest SUB and backfill ROUTER, the query process's live SUB and request ROUTER, and the
simulator's ``POST /admin/fault``, ``BOOKSNAP_FUZZ_MESSAGES`` each (10,000 in CI). A real client
asks for ``orderbook_l1`` every 20 ms throughout. Then: no process died or logged a traceback;
every process's memory stayed within a fixed bound; nothing from the fuzz was stored or served;
the real client's p99 stayed under 50 ms; no real second was lost; the error logs grew by at most
a fixed number of lines a minute. ``-m slow`` runs the 1,000,000-message campaign (200,000 per
endpoint) whose results are in docs/reliability.md.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import psutil
import pytest
import zmq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booksnap.client import QueryClient, QueryFailed, QueryTimeout
from shared.codec import decode_live, decode_second, encode
from shared.fixedpoint import format_fixed
from tests.support import fuzz
from tests.support.pipeline import Pipeline, now_second, start_pipeline
from tests.support.processes import stop_all

CI_MESSAGES = int(os.environ.get("BOOKSNAP_FUZZ_MESSAGES", "10000"))
# Messages a fuzzing socket queues at most: ~5 % of mutations carry a 5 MiB frame, and a
# connecting socket queues for a peer that dropped it (oversize) until it reconnects, so 100,000
# queued grew this test process past 24 GB in a 5,000,000-message run (OOM-killed).
FUZZ_SNDHWM = 1_000
LONG_MESSAGES = 200_000  # per endpoint: 1,000,000 messages over the five endpoints
HYPOTHESIS_EXAMPLES = 150  # x up to 8 messages each, per endpoint, before the mutation stream
RSS_GROWTH_MB = 200  # per process tree, over its RSS before the campaign
L1_P99_MS = 50.0
ERROR_LINES_PER_MINUTE = 60  # per process: reject logs are aggregated, so far fewer in practice
SENTINEL_TEXT = format_fixed(fuzz.SENTINEL)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    pipe = start_pipeline(tmp_path_factory.mktemp("fuzz"))
    try:
        yield pipe
    finally:
        stop_all(list(pipe.procs.values()))


def test_fuzz_campaign_on_every_endpoint(pipeline: Pipeline) -> None:
    report = run_campaign(pipeline, CI_MESSAGES)
    print(f"\nfuzz campaign: {report}")  # shown with -s


@pytest.mark.slow
def test_long_fuzz_campaign(tmp_path_factory: pytest.TempPathFactory) -> None:
    pipe = start_pipeline(tmp_path_factory.mktemp("fuzz-long"))
    try:
        report = run_campaign(pipe, LONG_MESSAGES, hypothesis_examples=1000)
        print(f"\nlong fuzz campaign: {report}")
    finally:
        stop_all(list(pipe.procs.values()))


# --- the campaign ---------------------------------------------------------------------------------


def run_campaign(
    pipe: Pipeline, per_endpoint: int, hypothesis_examples: int = HYPOTHESIS_EXAMPLES
) -> dict[str, Any]:
    env = pipe.env
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    start = now_second()
    pipe.wait_stored_through(start)
    seeds, live_seeds = capture_seeds(context, env["BOOKSNAP_FEED_ENDPOINT"])
    marks = {name: len(proc.log()) for name, proc in pipe.procs.items()}
    memory = MemoryWatch(pipe)
    probe = L1Probe(env["BOOKSNAP_QUERY_ENDPOINT"])
    memory.start()
    probe.start()
    began = time.monotonic()
    try:
        rng = random.Random(20261130)
        sent = hypothesis_part(context, env, hypothesis_examples)
        mutation_part(context, env, per_endpoint, sent, rng, seeds, live_seeds)
    finally:
        probe.stop()
        memory.stop()
    minutes = (time.monotonic() - began) / 60
    end = now_second()
    pipe.wait_stored_through(end + 2, timeout=60)
    context.destroy(linger=0)

    # No process died or wrote a traceback; each error log grew by a bounded number of lines.
    for name, proc in pipe.procs.items():
        assert proc.alive(), f"{name} died:\n{proc.log()[-3000:]}"
        new = proc.log()[marks[name] :]
        assert "Traceback" not in new, f"{name} logged a traceback:\n{new[-3000:]}"
        errors = sum(1 for line in new.splitlines() if " ERROR " in line)
        assert errors <= ERROR_LINES_PER_MINUTE * (minutes + 1), f"{name}: {errors} ERROR lines"
    # The fuzz reached the parsers (refusals are counted and logged in aggregate).
    assert "Rejected a message" in pipe.procs["writer"].log()[marks["writer"] :]
    assert "invalid live message" in pipe.procs["query"].log()[marks["query"] :]
    # Memory stayed bounded, during and after.
    for name, (before, peak, after) in memory.summary().items():
        assert peak - before <= RSS_GROWTH_MB, f"{name} grew from {before:.0f} to {peak:.0f} MB"
        assert after - before <= RSS_GROWTH_MB, f"{name} kept {after - before:.0f} MB"
    # Nothing from the fuzz was served to the real client, or is served now.
    assert probe.sentinels == 0
    assert probe.latencies, "the real client got no answer at all"
    p99 = sorted(probe.latencies)[int(len(probe.latencies) * 0.99) - 1] * 1000
    assert p99 < L1_P99_MS, f"orderbook_l1 p99 {p99:.1f} ms while fuzzed"
    with QueryClient(env["BOOKSNAP_QUERY_ENDPOINT"], timeout=10) as client:
        for symbol in ("FUZZUSDT", "XRPUSDT"):
            with pytest.raises(QueryFailed):
                client.request("orderbook_l1", {"symbol": symbol})
        assert set(client.request("status")["symbols"]) <= set(pipe.symbols)
    # Nothing from the fuzz was stored, and no real second was lost.
    assert_nothing_fuzzed_stored(pipe, start)
    lost = pipe.lost(pipe.settle_coverage(start, end))
    assert all(not seconds for seconds in lost.values()), lost
    return {
        "messages_per_endpoint": per_endpoint,
        "minutes": round(minutes, 2),
        "l1_requests": len(probe.latencies),
        "l1_p99_ms": round(p99, 2),
        "rss_mb": {k: [round(x) for x in v] for k, v in memory.summary().items()},
    }


def capture_seeds(
    context: zmq.Context[zmq.Socket[bytes]], feed: str
) -> tuple[list[list[bytes]], list[list[bytes]]]:
    """Real seconds and live books from the feed, re-stamped with a foreign session.

    Mutations of a record that stay valid must still be refused, so the seeds never carry the
    real collectors' sessions (forging those is what CURVE keys prevent).
    """
    sub = context.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(feed)
    seconds: list[list[bytes]] = []
    books: list[list[bytes]] = []
    deadline = time.monotonic() + 20
    while (len(seconds) < 4 or len(books) < 4) and time.monotonic() < deadline:
        if not sub.poll(200):
            continue
        frames = sub.recv_multipart()
        if frames[0].startswith(b"snap."):
            book, trades = decode_second(frames)
            foreign = msgspec.structs.replace(book, session=book.session + 1_000_003)
            seconds.append([frames[0], encode(foreign), encode(trades)])
        else:
            live = decode_live(frames[1])
            foreign_live = msgspec.structs.replace(live, session=live.session + 1_000_003)
            books.append([frames[0], encode(foreign_live)])
    sub.close(0)
    assert seconds, "no real second on the feed to mutate"
    assert books, "no live book on the feed to mutate"
    return seconds, books


def hypothesis_part(
    context: zmq.Context[zmq.Socket[bytes]], env: dict[str, str], examples: int
) -> int:
    """Structure-aware messages from hypothesis on each ZeroMQ endpoint and the admin API."""
    ingest, live, router = (
        _pub(context, env["BOOKSNAP_INGEST_ENDPOINT"]),
        _pub(context, env["BOOKSNAP_LIVE_ENDPOINT"]),
        _dealer(context, env["BOOKSNAP_QUERY_ENDPOINT"], b"fuzz-h"),
    )
    admin = http.client.HTTPConnection("127.0.0.1", int(env["BOOKSNAP_SIM_PORT"]), timeout=10)
    counted = {"n": 0}

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.lists(fuzz.seconds_messages, max_size=8),
        st.lists(fuzz.live_messages, max_size=8),
        st.lists(fuzz.requests, max_size=8),
        st.lists(fuzz.fault_bodies, max_size=2),
    )
    def send(seconds, books, requests, faults):
        for message in seconds:
            ingest.send_multipart(message)
        for message in books:
            live.send_multipart(message)
        for body in requests:
            router.send(body)
        for body in faults:
            _post(admin, body)
        counted["n"] += max(len(seconds), len(books), len(requests))

    try:
        send()
    finally:
        for sock in (ingest, live, router):
            sock.close(0)
        admin.close()
    return counted["n"]


def mutation_part(
    context: zmq.Context[zmq.Socket[bytes]],
    env: dict[str, str],
    per_endpoint: int,
    already: int,
    rng: random.Random,
    seeds: list[list[bytes]],
    live_seeds: list[list[bytes]],
) -> None:
    """The bulk: mutation-based streams, one thread (and socket) per endpoint."""
    count = max(0, per_endpoint - already)
    jobs: list[Callable[[], None]] = [
        lambda: _flood(
            _pub(context, env["BOOKSNAP_INGEST_ENDPOINT"]),
            fuzz.ingest_stream(random.Random(rng.random()), seeds, now_second),
            count,
        ),
        lambda: _flood(
            _pub(context, env["BOOKSNAP_LIVE_ENDPOINT"]),
            fuzz.live_stream(random.Random(rng.random()), [*seeds, *live_seeds], now_second),
            count,
        ),
        lambda: _flood_backfill(context, env["BOOKSNAP_BACKFILL_ENDPOINT"], seeds, count),
        lambda: _flood_requests(context, env["BOOKSNAP_QUERY_ENDPOINT"], count),
        lambda: _flood_admin(int(env["BOOKSNAP_SIM_PORT"]), count),
    ]
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,), daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    assert not errors, errors


def _flood(sock: zmq.Socket[bytes], stream: Iterator[list[bytes]], count: int) -> None:
    try:
        for i, message in zip(range(count), stream, strict=False):
            sock.send_multipart(message)
            if i % 200 == 199:
                time.sleep(0.02)  # let the socket drain rather than hit the HWM and drop
    finally:
        sock.close(0)


def _flood_backfill(
    context: zmq.Context[zmq.Socket[bytes]], endpoint: str, seeds: list[list[bytes]], count: int
) -> None:
    """DEALERs under ids of unconfigured symbols and junk (the real collectors' ids are left
    alone: taking those over is what CURVE keys prevent)."""
    rng = random.Random(7)
    ids = [b"FUZZUSDT", b"XRPUSDT", b"BTCUSDT\n", b"\xff\xfe", b"x" * 200]
    stream = fuzz.backfill_stream(rng, seeds, now_second)
    dealers = [_dealer(context, endpoint, routing_id) for routing_id in ids]
    try:
        for i, message in zip(range(count), stream, strict=False):
            dealers[i % len(dealers)].send_multipart(message)
            if i % 200 == 199:
                time.sleep(0.02)
    finally:
        for dealer in dealers:
            dealer.close(0)


def _flood_requests(context: zmq.Context[zmq.Socket[bytes]], endpoint: str, count: int) -> None:
    """Requests from a client that never reads its replies (they must not pile up)."""
    dealer = _dealer(context, endpoint, b"fuzz-m")
    stream = fuzz.request_stream(random.Random(11))
    try:
        for i, body in zip(range(count), stream, strict=False):
            dealer.send(body)
            if i % 200 == 199:
                time.sleep(0.02)
    finally:
        dealer.close(0)


def _flood_admin(port: int, count: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    stream = fuzz.fault_stream(random.Random(13))
    try:
        for _, body in zip(range(count), stream, strict=False):
            status = _post(conn, body)
            assert status in (400, 413), status  # never a fault injected
    finally:
        conn.close()


def _post(conn: http.client.HTTPConnection, body: bytes) -> int:
    try:
        conn.request("POST", "/admin/fault", body=body)
        response = conn.getresponse()
        response.read()
        return response.status
    except (http.client.HTTPException, OSError):
        conn.close()  # a refused oversize body closes the connection: reconnect next time
        return 413


def _pub(context: zmq.Context[zmq.Socket[bytes]], endpoint: str) -> zmq.Socket[bytes]:
    sock = context.socket(zmq.PUB)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SNDHWM, FUZZ_SNDHWM)
    sock.connect(endpoint)
    time.sleep(0.2)  # the slow joiner: let the connection come up before the first message
    return sock


def _dealer(
    context: zmq.Context[zmq.Socket[bytes]], endpoint: str, routing_id: bytes
) -> zmq.Socket[bytes]:
    sock = context.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.ROUTING_ID, routing_id)
    sock.setsockopt(zmq.SNDHWM, FUZZ_SNDHWM)
    sock.connect(endpoint)
    return sock


# --- watchers -------------------------------------------------------------------------------------


class L1Probe:
    """A real client in its own process (so the fuzzers' threads cannot delay it) asking for
    BTCUSDT's L1 every 20 ms; counts answers showing fuzz data."""

    def __init__(self, endpoint: str) -> None:
        spawn = multiprocessing.get_context("spawn")
        self._halt = spawn.Event()
        self._results, theirs = spawn.Pipe(duplex=False)
        self._process = spawn.Process(
            target=probe_l1, args=(endpoint, self._halt, theirs), daemon=True
        )
        self.latencies: list[float] = []
        self.sentinels = 0

    def start(self) -> None:
        self._process.start()

    def stop(self) -> None:
        self._halt.set()
        if self._results.poll(30):
            self.latencies, self.sentinels = self._results.recv()
        self._process.join(10)


def probe_l1(endpoint: str, halt: Any, results: Any) -> None:
    """The probe process: L1 requests until ``halt``; sends (latencies, sentinel answers)."""
    latencies: list[float] = []
    sentinels = 0
    with QueryClient(endpoint, timeout=5) as client:
        while not halt.is_set():
            started = time.perf_counter()
            try:
                result = client.request("orderbook_l1", {"symbol": "BTCUSDT"})
            except QueryFailed:
                result = None
            except QueryTimeout:  # counted as a 5 s answer: the p99 check then says so
                result = None
            latencies.append(time.perf_counter() - started)
            touch = (result or {}).get("best_bid"), (result or {}).get("best_ask")
            sentinels += SENTINEL_TEXT in touch
            halt.wait(0.02)
    results.send((latencies, sentinels))


class MemoryWatch(threading.Thread):
    """RSS (MB) of each process tree of the pipeline: before, peak during, and after."""

    def __init__(self, pipe: Pipeline) -> None:
        super().__init__(daemon=True)
        self.pids = {name: proc.pid for name, proc in pipe.procs.items()}
        self.before = {name: self._rss(pid) for name, pid in self.pids.items()}
        self.peak = dict(self.before)
        self._halt = threading.Event()

    @staticmethod
    def _rss(pid: int) -> float:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0.0
        total = 0
        for proc in procs:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                continue
        return total / 2**20

    def run(self) -> None:
        while not self._halt.wait(0.5):
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], self._rss(pid))

    def stop(self) -> None:
        self._halt.set()
        self.join(10)

    def summary(self) -> dict[str, tuple[float, float, float]]:
        return {
            name: (self.before[name], self.peak[name], self._rss(pid))
            for name, pid in self.pids.items()
        }


def assert_nothing_fuzzed_stored(pipe: Pipeline, start: int) -> None:
    """Only configured symbols are stored, and no stored book carries the fuzz sentinel or a
    session other than its symbol's collector."""
    assert pipe.stored_symbols() <= set(pipe.symbols)
    for symbol in pipe.symbols:
        books = pipe.stored_books(symbol, start - 600, now_second() + 60)
        assert all(book.bids[0][0] != fuzz.SENTINEL for book in books)
        sessions = {book.session for book in books}
        assert len(sessions) == 1, f"{symbol} stored from sessions {sessions}"
