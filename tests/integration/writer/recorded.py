"""Seconds built from the real recordings, as a collector would publish them.

A small, independent replay (REST snapshot + depth diffs + trades, bucketed by exchange second)
so the writer's tests and benchmarks do not depend on the collector package.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import msgspec

from shared.fixedpoint import parse_fixed
from shared.model import Trade
from tests.support.seconds import Second

RECORDINGS = (
    Path(__file__).resolve().parents[3] / "simulator" / "recordings" / "hftbacktest" / "spot"
)
DEPTH = 20


def _levels(raw: list[list[str]]) -> list[tuple[int, int]]:
    return [(parse_fixed(p), parse_fixed(q)) for p, q in raw]


def replay(path: Path, depth: int = DEPTH) -> Iterator[Second]:
    """Yield one snapshot per exchange second of a recording (top ``depth`` levels, its trades)."""
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    last_uid: int | None = None
    buffered: list[dict] = []
    trades: list[Trade] = []
    second: int | None = None
    last_event = (0, 0)
    seq = 0
    with gzip.open(path, "rt") as lines:
        for line in lines:
            recv_ns, _, text = line.partition(" ")
            msg = json.loads(text)
            if "lastUpdateId" in msg:
                bids = dict(_levels(msg["bids"]))
                asks = dict(_levels(msg["asks"]))
                last_uid = msg["lastUpdateId"]
                events, buffered = buffered, []
                for event in events:
                    if event["u"] > last_uid:
                        _apply(bids, asks, event)
                        last_uid = event["u"]
                continue
            stream, data = msg["stream"], msg["data"]
            if "@bookTicker" in stream:
                continue
            event_second = data["E"] // 1000
            if second is not None and event_second > second and last_uid is not None:
                seq += 1
                yield _snapshot(path, second, seq, last_uid, last_event, bids, asks, trades, depth)
                trades = []
            second = event_second
            if "@trade" in stream:
                trades.append(
                    Trade(
                        data["t"],
                        parse_fixed(data["p"]),
                        parse_fixed(data["q"]),
                        data["T"],
                        data["m"],
                    )
                )
            elif last_uid is None:
                buffered.append(data)
            elif data["u"] > last_uid:
                _apply(bids, asks, data)
                last_uid = data["u"]
                last_event = (data["E"], int(recv_ns) // 1_000_000)


def _apply(bids: dict[int, int], asks: dict[int, int], event: dict) -> None:
    for side, raw in ((bids, event["b"]), (asks, event["a"])):
        for price, qty in _levels(raw):
            if qty:
                side[price] = qty
            else:
                side.pop(price, None)


def _snapshot(path, second, seq, uid, last_event, bids, asks, trades, depth) -> Second:
    top_bids = sorted(bids.items(), reverse=True)[:depth]
    top_asks = sorted(asks.items())[:depth]
    return Second(
        symbol=path.name.split("_")[0].upper(),
        second=second,
        session=1,
        seq=seq,
        update_id=uid,
        ts_event=last_event[0],
        ts_recv=last_event[1],
        bids=tuple(top_bids),
        asks=tuple(top_asks),
        trades=tuple(trades),
    )


@cache
def recorded(symbol: str = "BTCUSDT") -> tuple[Second, ...]:
    """Every snapshot of ``symbol`` from its recordings (cached; ~300-600 seconds)."""
    snaps: list[Second] = []
    for path in sorted(RECORDINGS.glob(f"{symbol.lower()}_*.gz")):
        snaps.extend(replay(path))
    return tuple(snaps)


def retimed(snap: Second, second: int, session: int, seq: int) -> Second:
    """The same book moved to ``second`` (tests need seconds near the current time)."""
    shift = (second - snap.second) * 1000
    return dataclasses.replace(
        snap,
        second=second,
        session=session,
        seq=seq,
        ts_event=max(0, snap.ts_event + shift),
        ts_recv=max(0, snap.ts_recv + shift),
        trades=tuple(msgspec.structs.replace(t, ts_trade=t.ts_trade + shift) for t in snap.trades),
    )
