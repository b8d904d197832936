"""Parsing of the recorded Binance traffic (``<recv_ns> <json>`` lines in gzip files).

A symbol's files (``btcusdt_20240808.gz``, ``btcusdt_20240809.gz``, ...) are read in name order
and joined into one ``Recording``: the REST snapshot, then a timeline of market events from the
snapshot on. Depth events the snapshot already contains (``u <= lastUpdateId``) are dropped, as
Binance's procedure says; aggTrades are synthesized from the recorded trades.
"""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from shared.errors import BooksnapError
from shared.fixedpoint import parse_fixed
from simulator.checksums import ChecksumError, find_sums, verify_files
from simulator.market import (
    BookTickerEvent,
    DepthEvent,
    Level,
    MarketEvent,
    Snapshot,
    TradeEvent,
    aggregate_trades,
)

log = logging.getLogger(__name__)

AGG_ID_BASE = 1_000_000_000  # the recordings have no aggTrade ids; start ours here


class RecordingError(BooksnapError):
    """A symbol's recordings are missing or unusable."""


@dataclass(frozen=True, slots=True)
class TimedEvent:
    recv_ns: int  # the recording machine's receive time
    event: MarketEvent


@dataclass(frozen=True, slots=True)
class Recording:
    symbol: str
    snapshot: Snapshot
    timeline: list[TimedEvent]  # from the snapshot on, in receive order
    files: tuple[str, ...]
    bad_lines: int


def recording_files(directory: Path, symbol: str) -> list[Path]:
    """The files of a symbol, in name order (so in time order)."""
    return sorted(directory.glob(f"{symbol.lower()}_*.gz"))


def available_symbols(directory: Path) -> list[str]:
    return sorted({p.name.split("_")[0].upper() for p in directory.glob("*_*.gz")})


def parse_line(line: bytes) -> tuple[int, dict[str, Any]]:
    """``b'1723161253937085768 {...}'`` → (recv_ns, parsed JSON); ValueError when malformed."""
    stamp, _, text = line.partition(b" ")
    try:
        record = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    return int(stamp), record


def parse_levels(raw: list[list[str]]) -> list[Level]:
    return [(parse_fixed(price), parse_fixed(qty)) for price, qty in raw]


def parse_event(stream: str, data: dict[str, Any]) -> MarketEvent:
    """One recorded stream payload as a market event; KeyError/ValueError when malformed."""
    kind = stream.partition("@")[2]
    if kind.startswith("depth"):
        return DepthEvent(
            data["s"],
            data["U"],
            data["u"],
            data["E"],
            parse_levels(data["b"]),
            parse_levels(data["a"]),
        )
    if kind == "trade":
        return TradeEvent(
            data["s"],
            data["t"],
            parse_fixed(data["p"]),
            parse_fixed(data["q"]),
            data["T"],
            data["E"],
            bool(data["m"]),
        )
    if kind == "bookTicker":
        return BookTickerEvent(
            data["s"],
            data["u"],
            parse_fixed(data["b"]),
            parse_fixed(data["B"]),
            parse_fixed(data["a"]),
            parse_fixed(data["A"]),
        )
    raise ValueError(f"unknown stream {stream!r}")


def load_recording(directory: Path, symbol: str) -> Recording:
    """Verify, read and join every file of ``symbol``.

    RecordingError if a file does not match the nearest SHA256SUMS or there is no usable
    snapshot.
    """
    files = recording_files(directory, symbol)
    if not files:
        raise RecordingError(f"no recordings for {symbol} in {directory}")
    sums = find_sums(directory)
    if sums is None:
        log.warning("%s: no SHA256SUMS in %s or above; recordings not verified", symbol, directory)
    else:
        try:
            verify_files(sums, files)
        except ChecksumError as exc:
            raise RecordingError(str(exc)) from exc
    snapshot: Snapshot | None = None
    pending: list[TimedEvent] = []  # depth events received before the snapshot
    timeline: list[TimedEvent] = []
    bad = 0
    for path in files:
        with gzip.open(path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                try:
                    recv_ns, record = parse_line(line.rstrip(b"\n"))
                    if "lastUpdateId" in record:
                        if snapshot is None:
                            snapshot = Snapshot(
                                record["lastUpdateId"],
                                parse_levels(record["bids"]),
                                parse_levels(record["asks"]),
                            )
                            # Events received before the snapshot that it does not contain yet
                            # start the timeline, at the snapshot's moment.
                            timeline.extend(
                                TimedEvent(recv_ns, t.event)
                                for t in pending
                                if isinstance(t.event, DepthEvent)
                                and t.event.last_id > snapshot.last_update_id
                            )
                        continue
                    event = parse_event(record["stream"], record["data"])
                except (KeyError, ValueError, TypeError) as exc:
                    bad += 1
                    log.error("Skipping malformed line %s:%d: %s", path.name, number, exc)
                    continue
                if snapshot is None:
                    pending.append(TimedEvent(recv_ns, event))
                elif not (
                    isinstance(event, DepthEvent) and event.last_id <= snapshot.last_update_id
                ):
                    timeline.append(TimedEvent(recv_ns, event))
    if snapshot is None:
        raise RecordingError(f"the recordings of {symbol} hold no REST snapshot")
    _check_continuity(symbol, snapshot, timeline)
    return Recording(
        symbol, snapshot, _with_agg_trades(timeline), tuple(p.name for p in files), bad
    )


def _check_continuity(symbol: str, snapshot: Snapshot, timeline: list[TimedEvent]) -> None:
    """Log (never hide) gaps in the recorded update ids; they will be replayed as they are."""
    previous = None
    for item in timeline:
        event = item.event
        if not isinstance(event, DepthEvent):
            continue
        if previous is None:
            if not event.first_id <= snapshot.last_update_id + 1 <= event.last_id:
                log.warning("%s: first recorded event does not straddle the snapshot", symbol)
        elif event.first_id != previous + 1:
            log.warning("%s: recorded gap %d → %d", symbol, previous, event.first_id)
        previous = event.last_id


def _with_agg_trades(timeline: list[TimedEvent]) -> list[TimedEvent]:
    """Insert each synthesized aggTrade right after the last trade it aggregates."""
    trades = [t.event for t in timeline if isinstance(t.event, TradeEvent)]
    by_last_trade = {agg.last_trade_id: agg for agg in aggregate_trades(trades, AGG_ID_BASE)}
    result: list[TimedEvent] = []
    for item in timeline:
        result.append(item)
        if isinstance(item.event, TradeEvent) and item.event.trade_id in by_last_trade:
            result.append(TimedEvent(item.recv_ns, by_last_trade[item.event.trade_id]))
    return result
