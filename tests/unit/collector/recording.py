"""Read the real hftbacktest recordings (``<recv_ns> <json>`` lines) for the collector tests."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from shared.fixedpoint import parse_fixed


@dataclass(frozen=True)
class Line:
    recv_ns: int
    kind: str  # "depth", "trade", "ticker" or "rest"
    raw: bytes  # the JSON text as recorded
    data: dict


def read_lines(*paths: Path) -> Iterator[Line]:
    """Every line of the files, in order, classified."""
    for path in paths:
        with gzip.open(path, "rb") as handle:
            for text in handle:
                stamp, _, raw = text.rstrip(b"\n").partition(b" ")
                frame = orjson.loads(raw)
                if "lastUpdateId" in frame:
                    yield Line(int(stamp), "rest", raw, frame)
                    continue
                stream = frame["stream"]
                kind = (
                    "depth"
                    if "@depth" in stream
                    else "ticker"
                    if stream.endswith("@bookTicker")
                    else "trade"
                )
                yield Line(int(stamp), kind, raw, frame["data"])


def ticker_levels(data: dict) -> tuple[tuple[int, int], tuple[int, int]]:
    """A bookTicker's (best bid, best ask) as scaled ints."""
    return (
        (parse_fixed(data["b"]), parse_fixed(data["B"])),
        (parse_fixed(data["a"]), parse_fixed(data["A"])),
    )


def files(recordings: Path, symbol: str) -> list[Path]:
    return sorted(recordings.glob(f"{symbol.lower()}_*.gz"))
