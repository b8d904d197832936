"""The Collector loop on a scripted stream and a manual clock: which seconds get records, which
trades they carry, and that an out-of-sync book publishes nothing. Real ZeroMQ (inproc), real
Feed, fetcher, publisher and backfill; only the clock and the message source are stand-ins."""

from __future__ import annotations

import json

import pytest
import websocket
import zmq

from collector.backfill import BackfillServer, RecordBuffer
from collector.config import CollectorConfig
from collector.feed import Feed
from collector.publisher import SnapshotPublisher
from collector.rest import HttpReply, RestGate, SnapshotFetcher
from collector.service import Collector
from collector.wsframes import PONG as PONG_OPCODE
from collector.wsframes import TEXT
from shared.codec import decode_second
from shared.security import SocketSecurity
from tests.support.clock import FakeClock
from tests.support.seconds import Second, second_of
from tests.support.waiting import poll_for

START = 1000.0
CLOSED = "<the connection drops here>"
PONG = "<pong>"


class ScriptedSocket:
    """Delivers (time, text) frames when the manual clock reaches their time."""

    def __init__(
        self, clock: FakeClock, frames: list[tuple[float, str]], pong_delay: float | None = 0.002
    ) -> None:
        self.clock = clock
        self.frames = frames
        self.pong_delay = pong_delay  # None: pings are never answered
        self.pings: list[float] = []
        self.sent: list[str] = []  # control requests

    def send(self, text: str) -> None:
        self.sent.append(text)

    def ping(self, payload: bytes) -> None:
        """The server answers after every frame it had sent before (sorted in after them)."""
        self.pings.append(self.clock.t)
        if self.pong_delay is not None:
            self.frames.append((self.clock.t + self.pong_delay, PONG + payload.decode()))
            self.frames.sort(key=lambda item: item[0])

    def pong(self, payload: bytes) -> None:
        pass

    def read(self, timeout: float) -> list[tuple[int, bytes]]:
        if self.frames and self.frames[0][0] <= self.clock.t + timeout:
            at, text = self.frames.pop(0)
            self.clock.t = max(self.clock.t, at)
            if text == CLOSED:
                raise websocket.WebSocketConnectionClosedException("the exchange closed it")
            if text.startswith(PONG):
                return [(PONG_OPCODE, text[6:].encode())]
            return [(TEXT, text.encode())]
        self.clock.t += timeout
        return []

    def close(self, timeout: float = 0) -> None:
        pass


def depth(at: float, first: int, last: int, bid: str) -> tuple[float, str]:
    data = {
        "e": "depthUpdate",
        "E": int(at * 1000),
        "s": "BTCUSDT",
        "U": first,
        "u": last,
        "b": [[bid, "1.00000000"]],
        "a": [],
    }
    return at, json.dumps({"stream": "btcusdt@depth@100ms", "data": data})


def agg(at: float, agg_id: int, trade_ms: int) -> tuple[float, str]:
    data = {
        "e": "aggTrade",
        "E": int(at * 1000),
        "s": "BTCUSDT",
        "a": agg_id,
        "p": "100.00000000",
        "q": "0.50000000",
        "f": agg_id,
        "l": agg_id,
        "T": trade_ms,
        "m": False,
    }
    return at, json.dumps({"stream": "btcusdt@aggTrade", "data": data})


SNAPSHOT = json.dumps(
    {
        "lastUpdateId": 100,
        "bids": [["99.00000000", "2.00000000"]],
        "asks": [["101.00000000", "3.00000000"]],
    }
).encode()


def steady_frames() -> list[tuple[float, str]]:
    frames = [
        depth(START + 0.05 + 0.1 * i, 101 + i, 101 + i, f"9{i % 9}.00000000") for i in range(35)
    ]
    frames += [
        agg(1001.30, 7, 1001_200),
        agg(1002.10, 8, 1001_950),  # second 1001, arrives 0.10 s after its end: within grace
        agg(1002.20, 9, 1002_150),
        agg(1002.40, 10, 1001_990),  # second 1001, arrives 0.40 s after its end: late
        depth(1003.60, 140, 141, "95.00000000"),  # U jumps from 136 to 140: a gap
        depth(1003.70, 142, 142, "95.00000000"),
    ]
    return sorted(frames, key=lambda item: item[0])


def reconnect_frames() -> list[tuple[float, str]]:
    """In sync from 1000.05, the connection drops at 1001.5; the next one speaks from 1002.65."""
    frames = [depth(START + 0.05 + 0.1 * i, 101 + i, 101 + i, "90.00000000") for i in range(14)]
    frames.append((1001.5, CLOSED))
    # The REST snapshot (lastUpdateId 100) fits the new connection's events again.
    frames += [depth(1002.65 + 0.1 * i, 101 + i, 101 + i, "91.00000000") for i in range(30)]
    frames.append(agg(1002.70, 7, 1002_600))  # traded before this connection's first event
    frames.append(agg(1003.30, 8, 1003_200))
    return sorted(frames, key=lambda item: item[0])


def quiet_frames() -> list[tuple[float, str]]:
    """In sync from 1000.05; after 1001.35 the market says nothing (a quiet symbol)."""
    frames = [depth(START + 0.05 + 0.1 * i, 101 + i, 101 + i, "90.00000000") for i in range(14)]
    frames.append(agg(1001.30, 7, 1001_200))
    return sorted(frames, key=lambda item: item[0])


def unanswered_frames() -> list[tuple[float, str]]:
    """Quiet as above, but the server answers no ping (a stalled connection)."""
    return quiet_frames()


unanswered_frames.pong_delay = None  # type: ignore[attr-defined]


@pytest.fixture
def scenario(request, zmq_context):
    clock = FakeClock(START)
    make = getattr(request, "param", steady_frames)
    socket = ScriptedSocket(clock, make(), pong_delay=getattr(make, "pong_delay", 0.002))
    config = CollectorConfig(
        symbol="BTCUSDT",
        ingest_endpoint="inproc://ingest",
        live_endpoint="inproc://live",
        backfill_endpoint="inproc://backfill",
        trade_grace=0.25,
    )
    sub = zmq_context.socket(zmq.SUB)
    sub.subscribe(b"snap.")
    sub.bind("inproc://ingest")
    buffer = RecordBuffer(60)
    # Every later snapshot is as old as the first: after the gap the book can never resync.
    gate = RestGate(clock, 50, 3000)
    fetcher = SnapshotFetcher(
        "http://x", gate, 1.0, get=lambda url, t: HttpReply(200, {}, SNAPSHOT)
    )
    plain = SocketSecurity(zmq_context, None)
    publisher = SnapshotPublisher(
        zmq_context,
        [("ingest", config.ingest_endpoint), ("live", config.live_endpoint)],
        100,
        plain,
    )
    joined = poll_for(lambda: _joined(publisher, sub), 5, what="the SUB to join")
    assert joined
    collector = Collector(
        config,
        clock=clock,
        feed=Feed(
            "ws://x",
            clock,
            watchdog=30,
            max_age=1e6,
            backoff_min=1,
            backoff_max=1,
            connect=lambda url, timeout: socket,
        ),
        fetcher=fetcher,
        publisher=publisher,
        backfill=BackfillServer(
            zmq_context,
            endpoint=config.backfill_endpoint,
            symbol="BTCUSDT",
            session=1,
            buffer=buffer,
            clock=clock,
            hello_interval=1,
            hwm=100,
            security=plain,
        ),
        buffer=buffer,
        session=1,
    )
    collector.socket = socket
    yield clock, collector, sub
    collector.close()
    sub.close(linger=0)


def _joined(publisher: SnapshotPublisher, sub: zmq.Socket) -> bool:
    # PUB drops messages until the subscription has arrived (the slow joiner): ping until one
    # gets through, so that the test sees every record.
    publisher._sockets[0].send_multipart([b"snap.PING", b""])
    return bool(sub.poll(20)) and sub.recv_multipart()[0] == b"snap.PING"


def run_until(clock: FakeClock, collector: Collector, until: float) -> None:
    while clock.t < until:
        collector.step()
        thread = collector._fetcher._thread
        if thread is not None:  # let the fetch thread finish before time moves on
            thread.join(5)


def records_until(
    clock: FakeClock, collector: Collector, sub: zmq.Socket, until: float
) -> list[Second]:
    """Run the loop until ``until``, then every record it published, in order."""
    run_until(clock, collector, until)
    records = []
    while sub.poll(100):
        records.append(second_of(*decode_second(sub.recv_multipart())))
    return records


def test_records_trades_and_no_record_out_of_sync(scenario, caplog):
    clock, collector, sub = scenario

    caplog.set_level("INFO")
    records = records_until(clock, collector, sub, 1006.0)

    # Synced within second 1000, but the connection's first event came at 1000.05, so second
    # 1000's earlier trades were never seen: no record for it. The gap at 1003.6 ends the
    # records (the snapshot stays stale).
    assert [r.second for r in records] == [1001, 1002]
    assert [r.seq for r in records] == [1, 2]
    assert [r.update_id for r in records] == [120, 130]  # the last event before each end
    assert collector._counters.partial == 1
    assert "trades complete from second 1001" in caplog.text
    one = 100_000_000
    assert records[0].bids == ((99 * one, 2 * one), *((p * one, one) for p in range(98, 89, -1)))
    assert records[0].asks == ((101 * one, 3 * one),)
    # Trades by trade time T; the one in the grace counts, the later one is late and dropped.
    assert [t.agg_id for t in records[0].trades] == [7, 8]
    assert [t.agg_id for t in records[1].trades] == [9]
    assert collector._seconds.late_trades == 1
    assert "sequence gap" in caplog.text
    assert "is older than the first buffered U" in caplog.text


@pytest.mark.parametrize("scenario", [reconnect_frames], indirect=True)
def test_no_record_for_a_second_that_began_before_the_connection(scenario, caplog):
    clock, collector, sub = scenario

    caplog.set_level("INFO")
    records = records_until(clock, collector, sub, 1006.0)

    # 1000: began before the first connection; 1001: the connection dropped in it; 1002: in
    # sync again at its end, but trade 7 of 1002.600 (before the new connection's first event at
    # 1002.65) may have had others before it that were never received: no record.
    assert [r.second for r in records] == [1003, 1004]  # 1005 is sent at 1006.25
    assert collector._counters.partial == 2
    assert "trades complete from second 1001" in caplog.text
    assert "trades complete from second 1003" in caplog.text
    assert [t.agg_id for t in records[0].trades] == [8]
    assert collector._seconds.unrecorded_trades == 1  # trade 7: its second has no record


@pytest.mark.parametrize("scenario", [quiet_frames], indirect=True)
def test_a_quiet_connection_that_answers_pings_gets_a_record_every_second(scenario, caplog):
    clock, collector, sub = scenario

    caplog.set_level("INFO")
    records = records_until(clock, collector, sub, 1012.0)

    # Every second from the first complete one is stored: the unchanged book, vouched for by
    # the pong to a ping sent when its record is due, 0.25 s after the second's end (no data
    # frame came after the closing batch was due at 0.1 s).
    assert [r.second for r in records] == list(range(1001, 1011))
    assert {r.update_id for r in records[1:]} == {114}
    assert [t.agg_id for t in records[0].trades] == [7]
    pings = collector.socket.pings
    assert 9 <= len(pings) <= 11  # about one per quiet second, never more
    assert all(0.25 <= p % 1 < 0.35 for p in pings)  # batch due at 0.1, record due at 0.25
    assert collector._counters.silent == 0
    assert "stream silent" not in caplog.text


@pytest.mark.parametrize("scenario", [unanswered_frames], indirect=True)
def test_a_quiet_connection_that_does_not_answer_is_stale(scenario, caplog):
    clock, collector, sub = scenario

    caplog.set_level("INFO")
    records = records_until(clock, collector, sub, 1008.0)

    # The last data frame came at 1001.35, before second 1001's closing batch was due (1002.1):
    # nothing vouches for 1001 or any later second, so none of them is stored.
    assert records == []
    assert collector._counters.silent >= 5
    assert len(collector.socket.pings) >= 5
    assert "stream silent: nothing vouched for second 1001" in caplog.text
