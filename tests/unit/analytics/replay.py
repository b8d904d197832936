"""Test-only builder: 1 s BookSnapshots and Trades replayed from the real Binance recordings.

A straightforward local book: buffer depth diffs until the REST snapshot, drop diffs with
``u <= lastUpdateId``, then apply every diff in order (the recordings are gap-free, see
shared/realdata/README.md). Snapshot of second s = the book after every diff with
``E < (s+1)*1000``, top 20 levels best first, with the trades whose ``T`` lies in second s.
"""

from __future__ import annotations

import gzip
import heapq
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from shared.fixedpoint import parse_fixed
from shared.model import BookSnapshot, LiveBook, Trade

RECORDINGS = (
    Path(__file__).resolve().parents[3] / "simulator" / "recordings" / "hftbacktest" / "spot"
)
TOP = 20


@dataclass(frozen=True)
class Replay:
    symbol: str
    snapshots: tuple[BookSnapshot, ...]
    trades: tuple[Trade, ...]
    final_book: LiveBook  # top 100 levels after the last applied diff


def lines(files: Sequence[str]) -> Iterator[tuple[int, dict]]:
    for name in files:
        with gzip.open(RECORDINGS / name, "rt") as handle:
            for line in handle:
                recv, _, payload = line.partition(" ")
                yield int(recv), json.loads(payload)


def apply(side: dict[int, int], updates: list[list[str]]) -> None:
    for price_text, qty_text in updates:
        price, qty = parse_fixed(price_text), parse_fixed(qty_text)
        if qty == 0:
            side.pop(price, None)
        else:
            side[price] = qty


def top(bids: dict[int, int], asks: dict[int, int], n: int) -> tuple[tuple, tuple]:
    best_bids = tuple((p, bids[p]) for p in heapq.nlargest(n, bids))
    best_asks = tuple((p, asks[p]) for p in heapq.nsmallest(n, asks))
    return best_bids, best_asks


@lru_cache(maxsize=4)
def build(symbol: str, files: tuple[str, ...]) -> Replay:
    """Replay the files of one symbol into snapshots and trades."""
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    pending: list[tuple[int, dict]] = []
    last_id: int | None = None
    trades: list[Trade] = []
    snaps: list[BookSnapshot] = []
    current_second: int | None = None
    last_e = last_recv = 0
    seq = 0

    def emit_until(second: int) -> None:
        # Publish every second that ended before ``second`` (quiet seconds repeat the book).
        nonlocal current_second, seq
        assert current_second is not None
        assert last_id is not None
        while current_second < second:
            seq += 1
            b, a = top(bids, asks, TOP)
            snaps.append(
                BookSnapshot(
                    symbol=symbol,
                    second=current_second,
                    session=1,
                    seq=seq,
                    update_id=last_id,
                    ts_event=last_e,
                    ts_recv=last_recv,
                    bids=b,
                    asks=a,
                )
            )
            current_second += 1

    def apply_event(recv: int, data: dict) -> None:
        nonlocal last_id, last_e, last_recv, current_second
        assert last_id is not None
        if data["u"] <= last_id:
            return
        assert data["U"] <= last_id + 1 <= data["u"], "gap in the recording"
        second = data["E"] // 1000
        if current_second is None:
            current_second = second
        emit_until(second)
        apply(bids, data["b"])
        apply(asks, data["a"])
        last_id, last_e, last_recv = data["u"], data["E"], recv // 1_000_000

    for recv, message in lines(files):
        if "lastUpdateId" in message:
            apply(bids, message["bids"])
            apply(asks, message["asks"])
            last_id = message["lastUpdateId"]
            for item in pending:
                apply_event(*item)
            pending.clear()
            continue
        stream, data = message["stream"], message["data"]
        if stream.endswith("@trade"):
            trades.append(
                Trade(
                    agg_id=data["t"],
                    price=parse_fixed(data["p"]),
                    qty=parse_fixed(data["q"]),
                    ts_trade=data["T"],
                    buyer_maker=data["m"],
                )
            )
        elif "@depth" in stream:
            if last_id is None:
                pending.append((recv, data))
            else:
                apply_event(recv, data)
    assert current_second is not None
    emit_until(current_second + 1)
    b, a = top(bids, asks, 100)
    final = LiveBook(
        symbol=symbol,
        session=1,
        seq=1,
        update_id=last_id or 0,
        ts_event=last_e,
        ts_recv=last_recv,
        bids=b,
        asks=a,
    )
    return Replay(symbol, tuple(snaps), tuple(trades), final)


def btcusdt() -> Replay:
    """About 11 minutes of BTCUSDT (both files joined)."""
    return build("BTCUSDT", ("btcusdt_20240808.gz", "btcusdt_20240809.gz"))


def ethusdt() -> Replay:
    """About 6 minutes of ETHUSDT."""
    return build("ETHUSDT", ("ethusdt_20240808.gz",))
