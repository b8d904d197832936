"""The WebSocket feed: pongs, the watchdog, capped backoff with jitter, and handovers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
import websocket
from aiohttp import WSMsgType, web

from collector.feed import ACTIVE, STANDBY, Feed
from collector.wsframes import PONG, TEXT
from shared.clock import SystemClock
from tests.support.clock import FakeClock
from tests.support.waiting import free_port, poll_for


class FakeSocket:
    """Stands in for websocket.WebSocket below the connect seam."""

    def __init__(self, frames: list[str], answers_pings: bool = False) -> None:
        self.frames = frames
        self.closed = False
        self.answers_pings = answers_pings
        self.pings: list[bytes] = []
        self.pong_due: bytes | None = None

    def ping(self, payload: bytes) -> None:
        self.pings.append(payload)
        if self.answers_pings:
            self.pong_due = payload

    def pong(self, payload: bytes) -> None:
        pass

    def read(self, timeout: float) -> list[tuple[int, bytes]]:
        if self.closed:
            raise websocket.WebSocketConnectionClosedException("closed")
        if self.pong_due is not None:
            pong, self.pong_due = self.pong_due, None
            return [(PONG, pong)]
        if not self.frames:
            return []
        return [(TEXT, self.frames.pop(0).encode())]

    def close(self, timeout: float = 0) -> None:
        self.closed = True


def make_feed(clock, sockets: list, **overrides) -> Feed:
    settings = {"watchdog": 5.0, "max_age": 100.0, "backoff_min": 1.0, "backoff_max": 8.0}
    settings.update(overrides)

    def connect(url: str, timeout: float):
        item = sockets.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return Feed("ws://x/stream", clock, connect=connect, **settings)


def test_watchdog_drops_a_silent_connection_and_backoff_is_capped():
    clock = FakeClock()
    failures = [ConnectionRefusedError("refused")] * 6
    feed = make_feed(clock, [FakeSocket(["a"]), *failures, FakeSocket([])])

    feed.poll(0.1)  # connects
    assert [f.text for f in feed.poll(0.1)] == [b"a"]
    clock.t += 6  # silent for longer than the watchdog
    feed.poll(0.1)
    assert feed.active is None
    assert feed.lost
    delays = []
    for _ in range(6):
        clock.t = feed._next_attempt
        before = clock.t
        feed.poll(0.1)  # the attempt fails: the next delay is scheduled
        delays.append(feed._next_attempt - before)

    assert all(0.5 <= d <= 8.0 for d in delays)
    assert delays[-1] >= 4.0  # grew to the cap (with jitter in [cap/2, cap])
    assert feed.reconnects == 7


def test_a_quiet_connection_that_answers_its_keepalive_ping_is_kept():
    clock = FakeClock()
    quiet, stalled = FakeSocket([], answers_pings=True), FakeSocket([])
    feed = make_feed(clock, [quiet, stalled])

    feed.poll(0.1)  # connects
    for _ in range(20):  # 60 s without a data frame
        clock.t += 3
        feed.poll(0.1)
    assert feed.active is not None
    assert not feed.lost
    assert len(quiet.pings) == 10  # each time it was silent for half the watchdog (2.5 s)

    quiet.answers_pings = False  # the server stops answering: stale
    clock.t += 3
    feed.poll(0.1)
    clock.t += 3
    feed.poll(0.1)
    assert feed.active is None
    assert feed.lost


def test_handover_reads_both_and_promote_closes_the_old_one():
    clock = FakeClock()
    old, new = FakeSocket(["old-1"]), FakeSocket(["new-1"])
    feed = make_feed(clock, [old, new], max_age=10.0)
    feed.poll(0.1)
    clock.t += 11

    assert feed.needs_handover()
    feed.start_handover("age")
    frames = feed.poll(0.1)
    assert {(f.source, f.text) for f in frames} == {(STANDBY, b"new-1"), (ACTIVE, b"old-1")}
    feed.promote()
    assert old.closed
    assert feed.active is not None
    assert feed.active.ws is new
    assert feed.standby is None


@pytest.fixture
def pinging_server() -> Iterator[tuple[str, list[bytes]]]:
    """An aiohttp WebSocket server that pings every 50 ms and records the pongs it gets."""
    pongs: list[bytes] = []
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        for number in range(5):
            await ws.ping(f"ping-{number}".encode())
            msg = await ws.receive(timeout=2)
            if msg.type == WSMsgType.PONG:
                pongs.append(bytes(msg.data))
            await asyncio.sleep(0.05)
        await ws.send_str('{"done": true}')
        await ws.close()
        return ws

    async def serve() -> web.AppRunner:
        app = web.Application()
        app.router.add_get("/stream", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner

    def run() -> None:
        asyncio.set_event_loop(loop)
        runner = loop.run_until_complete(serve())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    yield f"ws://127.0.0.1:{port}/stream", pongs
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_every_ping_is_answered_with_its_pong(pinging_server):
    url, pongs = pinging_server
    feed = Feed(url, SystemClock(), watchdog=5, max_age=100, backoff_min=1, backoff_max=2)
    texts: list[str | bytes] = []
    try:
        poll_for(lambda: texts.extend(f.text for f in feed.poll(0.1)) or texts, 10)
    finally:
        feed.close()

    assert texts == [b'{"done": true}']
    assert pongs == [f"ping-{n}".encode() for n in range(5)]
