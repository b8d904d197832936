"""What the collector integration tests share: a SUB socket playing the writer, collector
processes pointed at a simulator, and the true book computed independently from the recording.

The truth is computed here from the recording files with a plain dict book (not the collector's
OrderBook), and ids are mapped back through the simulator's published replay shift, so a record
is checked against what Binance really sent, not against the code under test.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import zmq

from shared.codec import decode_live, decode_second
from shared.fixedpoint import parse_fixed
from shared.model import LiveBook
from tests.support.processes import Proc
from tests.support.seconds import Second, second_of
from tests.support.simulator import SimulatorProcess
from tests.support.waiting import free_endpoint, poll_for

RECORDINGS = (
    Path(__file__).resolve().parents[3] / "simulator" / "recordings" / "hftbacktest" / "spot"
)


@dataclass
class Sink:
    """SUB sockets bound where the writer and the query process would bind them."""

    context: zmq.Context[zmq.Socket[bytes]]
    ingest: str = field(default_factory=free_endpoint)
    live: str = field(default_factory=free_endpoint)
    records: list[Second] = field(default_factory=list)
    books: list[LiveBook] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._snap = self.context.socket(zmq.SUB)
        self._snap.setsockopt(zmq.LINGER, 0)
        self._snap.setsockopt(zmq.RCVHWM, 0)
        self._snap.subscribe(b"snap.")
        self._snap.bind(self.ingest)
        self._live = self.context.socket(zmq.SUB)
        self._live.setsockopt(zmq.LINGER, 0)
        self._live.setsockopt(zmq.RCVHWM, 0)
        self._live.subscribe(b"book.")
        self._live.bind(self.live)

    def drain(self) -> None:
        """Receive and decode (with full validation) everything that has arrived."""
        while self._snap.poll(0):
            self.records.append(second_of(*decode_second(self._snap.recv_multipart())))
        while self._live.poll(0):
            topic, payload = self._live.recv_multipart()
            book = decode_live(payload)
            assert topic == b"book." + book.symbol.encode()
            self.books.append(book)

    def of(self, symbol: str) -> list[Second]:
        self.drain()
        return [r for r in self.records if r.symbol == symbol]

    def wait_records(self, symbol: str, count: int, timeout: float = 40.0) -> list[Second]:
        return poll_for(
            lambda: self.of(symbol) if len(self.of(symbol)) >= count else [],
            timeout,
            what=f"{count} records of {symbol}",
        )

    def close(self) -> None:
        self._snap.close(linger=0)
        self._live.close(linger=0)


def collector(
    tmp_path: Path,
    sim: SimulatorProcess,
    sink: Sink,
    symbol: str | None,
    *args: str,
    backfill: str | None = None,
    name: str = "collector",
) -> Proc:
    """A collector process (``--symbol``) or the supervisor (``symbol=None``)."""
    env = {
        "BOOKSNAP_REST_URL": sim.rest_url,
        "BOOKSNAP_WS_URL": sim.ws_url,
        "BOOKSNAP_INGEST_ENDPOINT": sink.ingest,
        "BOOKSNAP_LIVE_ENDPOINT": sink.live,
        "BOOKSNAP_BACKFILL_ENDPOINT": backfill or free_endpoint(),
    }
    argv = (["--symbol", symbol] if symbol else []) + list(args)
    return Proc("collector", argv, tmp_path / f"{name}.log", env=env).start()


def check_consecutive(records: list[Second]) -> None:
    """One session: consecutive seconds and consecutive sequence numbers, no second skipped."""
    assert records, "no records"
    assert len({r.session for r in records}) == 1
    seconds = [r.second for r in records]
    seqs = [r.seq for r in records]
    assert seconds == list(range(seconds[0], seconds[0] + len(seconds))), seconds
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs


def check_fresh(records: Iterable[Second]) -> None:
    """No stale record: each stands for the book at its second's end, in a market (the replay at
    10x) that changes many times a second; so its last event is from that very second, and the
    update ids only grow."""
    previous = 0
    for record in records:
        assert record.second * 1000 - 1000 <= record.ts_event < (record.second + 1) * 1000, record
        assert record.update_id > previous
        previous = record.update_id


def check_trades(records: Iterable[Second]) -> None:
    for record in records:
        for trade in record.trades:
            assert trade.ts_trade // 1000 == record.second, (trade, record.second)


def log_times(log: str, text: str) -> list[float]:
    """Seconds-of-day of the log lines containing ``text``."""
    times = []
    for line in log.splitlines():
        if text in line:
            match = re.match(r"\S+T(\d\d):(\d\d):(\d\d)\.(\d{3})", line)
            if match:
                h, m, s, ms = (int(g) for g in match.groups())
                times.append(h * 3600 + m * 60 + s + ms / 1000)
    return times


class TrueBook:
    """The real book of a recording at any update id, from a plain dict replay."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.snapshot: dict | None = None
        self.events: list[dict] = []
        for path in sorted(RECORDINGS.glob(f"{symbol.lower()}_*.gz")):
            with gzip.open(path, "rb") as handle:
                for line in handle:
                    frame = json.loads(line.split(b" ", 1)[1])
                    if "lastUpdateId" in frame:
                        self.snapshot = self.snapshot or frame
                    elif "@depth" in frame["stream"]:
                        self.events.append(frame["data"])
        assert self.snapshot is not None
        self.first_u = self.snapshot["lastUpdateId"]
        self.events = [e for e in self.events if e["u"] > self.first_u]
        self.last_u = self.events[-1]["u"]

    def original_id(self, update_id: int, period: int) -> int | None:
        """Map an id of any replay loop back to the recording (None: a loop transition)."""
        if update_id <= self.last_u:
            return update_id
        assert period, "record from a later loop, but the simulator reported no period"
        loop = -(-(update_id - self.last_u) // period)  # the first loop that brings it in range
        original = update_id - loop * period
        return original if original > self.first_u else None

    def tops(self, ids: set[int], depth: int) -> dict[int, tuple[tuple, tuple]]:
        """Best ``depth`` levels (scaled ints) at each original id in ``ids``."""
        snap = self.snapshot
        assert snap is not None
        bids = {parse_fixed(p): parse_fixed(q) for p, q in snap["bids"]}
        asks = {parse_fixed(p): parse_fixed(q) for p, q in snap["asks"]}
        result = {}
        if self.first_u in ids:
            result[self.first_u] = _top(bids, asks, depth)
        for event in self.events:
            for side, changes in ((bids, event["b"]), (asks, event["a"])):
                for p, q in changes:
                    price, qty = parse_fixed(p), parse_fixed(q)
                    if qty:
                        side[price] = qty
                    else:
                        side.pop(price, None)
            if event["u"] in ids:
                result[event["u"]] = _top(bids, asks, depth)
        return result


def _top(bids: dict[int, int], asks: dict[int, int], depth: int) -> tuple[tuple, tuple]:
    return (
        tuple((p, bids[p]) for p in sorted(bids, reverse=True)[:depth]),
        tuple((p, asks[p]) for p in sorted(asks)[:depth]),
    )


def check_against_truth(
    sim: SimulatorProcess, books: Iterable[Second | LiveBook], depth: int
) -> int:
    """Every record's levels equal the true book at its update id; returns how many checked."""
    items = list(books)
    if not items:
        return 0
    symbol = items[0].symbol
    state = sim.state()["symbols"][symbol]
    truth = TrueBook(symbol)
    period = state["update_id_period"]
    mapped = {b.update_id: truth.original_id(b.update_id, period) for b in items}
    tops = truth.tops({m for m in mapped.values() if m is not None}, depth)
    checked = 0
    for book in items:
        original = mapped[book.update_id]
        if original is None:
            continue
        bids, asks = tops[original]
        if isinstance(book, LiveBook):
            # The live book shows only the levels its snapshot vouches for: a prefix of the truth.
            bids, asks = bids[: len(book.bids)], asks[: len(book.asks)]
        assert book.bids == bids[:depth], f"{symbol} bids differ at u={book.update_id}"
        assert book.asks == asks[:depth], f"{symbol} asks differ at u={book.update_id}"
        checked += 1
    return checked
