"""A test client that keeps a local book exactly as Binance documents it.

"How to manage a local order book correctly": open the stream and buffer its events; fetch a
REST snapshot; drop buffered events with ``u <= lastUpdateId``; the first applied event must
straddle ``lastUpdateId + 1``; after that every event must have ``U == previous u + 1``, else
the book is discarded and the procedure restarts. It runs in a thread over websocket-client and
urllib, against the real simulator process, and records what a checker needs.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from decimal import Decimal

import websocket
from sortedcontainers import SortedDict


class BookClient:
    def __init__(
        self,
        rest_url: str,
        ws_url: str,
        symbol: str,
        book_ticker: bool = False,
        snapshot_limit: int = 1000,
        record_levels: int = 0,
    ) -> None:
        self.rest_url = rest_url
        self.symbol = symbol
        streams = [f"{symbol.lower()}@depth@100ms"]
        if book_ticker:
            streams.append(f"{symbol.lower()}@bookTicker")
        self.url = f"{ws_url}/stream?streams={'/'.join(streams)}"
        self.snapshot_limit = snapshot_limit
        self.record_levels = record_levels  # keep the top N levels after every event, by u
        self.history: dict[int, tuple[list, list]] = {}
        self.bids: SortedDict = SortedDict()  # Decimal price → Decimal qty
        self.asks: SortedDict = SortedDict()
        self.last_u: int | None = None
        self.synced = False
        self.syncs = 0  # snapshots taken
        self.gaps = 0  # U != previous u + 1 seen while in sync
        self.applied = 0
        self.crossed = 0
        self.errors: list[str] = []
        self.tops: dict[int, tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]] = {}
        self.tickers: dict[int, tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]] = {}
        self.checkpoints_ok: list[int] = []
        self.checkpoints_bad: list[tuple[int, object, object]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    # --- control ------------------------------------------------------------------------------

    def start(self) -> BookClient:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    # --- the procedure ------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            ws = websocket.create_connection(self.url, timeout=0.5)
        except Exception as exc:  # the test will see it in errors
            self.errors.append(f"connect: {exc!r}")
            return
        buffer: list[dict] = []
        snapshot: dict | None = None
        snapshot_due = time.monotonic() + 0.3  # let a few events buffer first
        try:
            while not self._stop.is_set():
                try:
                    text = ws.recv()
                except websocket.WebSocketTimeoutException:
                    text = None
                if text:
                    frame = json.loads(text)
                    data = frame["data"]
                    if frame["stream"].endswith("@bookTicker"):
                        self._on_ticker(data)
                    elif self.synced:
                        self._apply_live(data)
                    else:
                        buffer.append(data)
                if self.synced:
                    continue
                if snapshot is None and buffer and time.monotonic() >= snapshot_due:
                    snapshot = self._fetch_snapshot()
                if snapshot is not None:
                    snapshot, buffer = self._sync(snapshot, buffer)
                    if snapshot is None and not self.synced:
                        snapshot_due = time.monotonic() + 0.3
        except Exception as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            ws.close()

    def _fetch_snapshot(self) -> dict:
        url = f"{self.rest_url}/api/v3/depth?symbol={self.symbol}&limit={self.snapshot_limit}"
        with urllib.request.urlopen(url, timeout=10) as response:
            self.syncs += 1
            return json.loads(response.read())

    def _sync(self, snap: dict, buffer: list[dict]) -> tuple[dict | None, list[dict]]:
        """Apply buffered events to the snapshot; returns (snapshot still pending, buffer)."""
        last_id = snap["lastUpdateId"]
        events = [e for e in buffer if e["u"] > last_id]
        if not events:
            return snap, []  # every buffered event is in the snapshot: wait for the next ones
        if not events[0]["U"] <= last_id + 1 <= events[0]["u"]:
            return None, events  # the snapshot is older than the buffer: fetch another
        self.bids = SortedDict({Decimal(p): Decimal(q) for p, q in snap["bids"]})
        self.asks = SortedDict({Decimal(p): Decimal(q) for p, q in snap["asks"]})
        self.last_u = last_id
        self.synced = True
        for i, event in enumerate(events):
            if i and event["U"] != self.last_u + 1:
                self.gaps += 1
                self.synced = False
                return None, []
            self._apply(event)
        return None, []

    def _apply_live(self, event: dict) -> None:
        assert self.last_u is not None
        if event["u"] <= self.last_u:
            return
        if event["U"] != self.last_u + 1:
            self.gaps += 1
            self.synced = False
            return
        self._apply(event)

    def _apply(self, event: dict) -> None:
        for side, changes in ((self.bids, event["b"]), (self.asks, event["a"])):
            for price, qty in changes:
                p, q = Decimal(price), Decimal(qty)
                if q:
                    side[p] = q
                else:
                    side.pop(p, None)
        self.last_u = event["u"]
        self.applied += 1
        top = self.top()
        if top is not None:
            if top[0][0] >= top[1][0]:
                self.crossed += 1
            self.tops[event["u"]] = top
            ticker = self.tickers.pop(event["u"], None)
            if ticker is not None:
                self._check(event["u"], ticker)
        if self.record_levels:
            self.history[event["u"]] = self.levels(self.record_levels)

    def _on_ticker(self, data: dict) -> None:
        ticker = (
            (Decimal(data["b"]), Decimal(data["B"])),
            (Decimal(data["a"]), Decimal(data["A"])),
        )
        u = data["u"]
        if u in self.tops:
            self._check(u, ticker)
        else:
            self.tickers[u] = ticker

    def _check(self, u: int, ticker: object) -> None:
        if self.tops[u] == ticker:
            self.checkpoints_ok.append(u)
        else:
            self.checkpoints_bad.append((u, self.tops[u], ticker))

    # --- views --------------------------------------------------------------------------------

    def top(self) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]] | None:
        if not self.bids or not self.asks:
            return None
        return self.bids.peekitem(-1), self.asks.peekitem(0)

    def levels(
        self, limit: int
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        bids = [(p, self.bids[p]) for p in reversed(self.bids.keys()[-limit:])]
        asks = [(p, self.asks[p]) for p in self.asks.keys()[:limit]]
        return bids, asks


def fetch_json(url: str) -> tuple[int, dict, dict]:
    """GET a URL; (status, headers, JSON body) even for 4xx/5xx answers."""
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read() or b"null")


def snapshot_levels(snap: dict, limit: int) -> tuple[list, list]:
    bids = [(Decimal(p), Decimal(q)) for p, q in snap["bids"]][:limit]
    asks = [(Decimal(p), Decimal(q)) for p, q in snap["asks"]][:limit]
    return bids, asks
