"""How deep must a REST snapshot be? ``python -m benchmarks.depth_need``.

For each real recording: start books from the recorded 1,000-level snapshot cut to 100, 200 and
500 levels and from the whole snapshot, apply every depth event to all of them (plain dicts, no
collector code), and count, at every 5th event, the books whose best 20 and best 100 levels
differ from the book started from the whole snapshot. A cut book differs exactly when the price
has moved past its horizon and a level it never saw comes into view.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson

from shared.fixedpoint import parse_fixed

RECORDINGS = Path(__file__).resolve().parents[1] / "simulator" / "recordings" / "hftbacktest"
CUTS = (100, 200, 500)
EVERY = 5

Side = dict[int, int]


def load(symbol: str) -> tuple[dict, list[dict]]:
    snapshot: dict | None = None
    events: list[dict] = []
    for path in sorted((RECORDINGS / "spot").glob(f"{symbol}_*.gz")):
        with gzip.open(path, "rb") as handle:
            for line in handle:
                frame = orjson.loads(line.split(b" ", 1)[1])
                if "lastUpdateId" in frame:
                    snapshot = snapshot or frame
                elif "@depth" in frame["stream"]:
                    events.append(frame["data"])
    assert snapshot is not None
    return snapshot, [e for e in events if e["u"] > snapshot["lastUpdateId"]]


def top(bids: Side, asks: Side, depth: int) -> tuple[list[tuple[int, int]], ...]:
    return (
        sorted(bids.items(), reverse=True)[:depth],
        sorted(asks.items())[:depth],
    )


def measure(symbol: str) -> str:
    snapshot, events = load(symbol)
    full_bids = {parse_fixed(p): parse_fixed(q) for p, q in snapshot["bids"]}
    full_asks = {parse_fixed(p): parse_fixed(q) for p, q in snapshot["asks"]}
    books: dict[int, tuple[Side, Side]] = {
        cut: (
            {p: full_bids[p] for p in sorted(full_bids, reverse=True)[:cut]},
            {p: full_asks[p] for p in sorted(full_asks)[:cut]},
        )
        for cut in CUTS
    }
    differ = {cut: [0, 0] for cut in CUTS}
    checks = 0
    for index, event in enumerate(events):
        for bids, asks in [(full_bids, full_asks), *books.values()]:
            for side, changes in ((bids, event["b"]), (asks, event["a"])):
                for price_text, qty_text in changes:
                    price, qty = parse_fixed(price_text), parse_fixed(qty_text)
                    if qty:
                        side[price] = qty
                    else:
                        side.pop(price, None)
        if index % EVERY and index != len(events) - 1:
            continue
        checks += 1
        truth = top(full_bids, full_asks, 100)
        for cut, (bids, asks) in books.items():
            seen = top(bids, asks, 100)
            if (seen[0][:20], seen[1][:20]) != (truth[0][:20], truth[1][:20]):
                differ[cut][0] += 1
            if seen != truth:
                differ[cut][1] += 1
    parts = ", ".join(f"from {c}: top 20 {d[0]}, top 100 {d[1]}" for c, d in differ.items())
    return (
        f"{symbol.upper()}: {len(events):,} events, {checks:,} checks against the book from "
        f"{len(snapshot['bids'])} levels; books that differ {parts}"
    )


def main() -> None:
    for symbol in ("btcusdt", "ethusdt"):
        print(measure(symbol))


if __name__ == "__main__":
    main()
