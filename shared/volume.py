"""Pre-aggregated traded volume: per exact price, for one minute or one hour of a symbol.

The writer keeps these in the ``volume`` (minutes) and ``volume_hours`` column families, in the
same synced batch as the trades they sum (``writer/volume.py``); the query process merges them
with raw trades at ragged edges (``query/reader.py``). A value is msgpack
``{"v": 1, "q": {price: qty}, "n": {price: trades}, "b": {price: taker_buy_qty}}`` (scaled ints;
``b`` omits prices without taker buys). Three flat int maps, because msgpack packs and unpacks
them in C and merging them is ``dict.update`` over C iterators: no Python loop per price.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import compress, repeat
from operator import add, neg, not_

import msgpack

from shared.codec import SCHEMA_VERSION
from shared.errors import DecodeError

MINUTE = 60
HOUR = 3600


def _accumulate(target: dict[int, int], keys: Iterable[int], values: Iterable[int]) -> None:
    """``target[k] += v`` for each pair, repeated keys included, in C.

    ``dict.update`` takes the pairs one at a time, and ``map`` computes each sum lazily, so a key
    seen again reads the sum just stored for it.
    """
    keys = keys if isinstance(keys, (list, tuple, dict)) else list(keys)
    target.update(zip(keys, map(add, map(target.get, keys, repeat(0)), values), strict=True))


class Volume:
    """Traded quantity, trade count and taker-buy quantity per exact price (scaled ints)."""

    __slots__ = ("buy", "count", "qty")

    def __init__(
        self,
        qty: dict[int, int] | None = None,
        count: dict[int, int] | None = None,
        buy: dict[int, int] | None = None,
    ) -> None:
        self.qty: dict[int, int] = {} if qty is None else qty
        self.count: dict[int, int] = {} if count is None else count
        self.buy: dict[int, int] = {} if buy is None else buy

    def __len__(self) -> int:
        return len(self.count)

    def add_trades(
        self, prices: Iterable[int], qtys: Iterable[int], buyer_maker: Iterable[bool]
    ) -> None:
        """Add trades given as columns (same length, in any order)."""
        prices, qtys = list(prices), list(qtys)
        if not prices:
            return
        _accumulate(self.qty, prices, qtys)
        _accumulate(self.count, prices, repeat(1, len(prices)))
        taker_buys = list(map(not_, buyer_maker))
        if any(taker_buys):
            _accumulate(self.buy, list(compress(prices, taker_buys)), compress(qtys, taker_buys))

    def add(self, other: Volume, sign: int = 1, *, prune: bool = True) -> None:
        """``self += sign * other``; with ``prune``, prices left with no trade are removed.

        (A difference of two aggregates is kept unpruned: the same trade count with another
        quantity is a real change.)
        """
        for mine, theirs in (
            (self.qty, other.qty),
            (self.count, other.count),
            (self.buy, other.buy),
        ):
            values = theirs.values() if sign == 1 else map(neg, theirs.values())
            _accumulate(mine, theirs, values)
        if prune and (sign != 1 or min(other.count.values(), default=1) <= 0):
            for price in [p for p in other.count if self.count.get(p) == 0]:
                del self.count[price]
                self.qty.pop(price, None)
                self.buy.pop(price, None)

    def rows(self) -> list[tuple[int, int, int, int]]:
        """``(price, qty, trades, taker_buy_qty)`` per price with trades, sorted by price."""
        buy = self.buy.get
        qty = self.qty.get
        return [(p, qty(p, 0), n, buy(p, 0)) for p, n in sorted(self.count.items()) if n]

    def encode(self) -> bytes:
        """The stored value."""
        return msgpack.packb(
            {"v": SCHEMA_VERSION, "q": self.qty, "n": self.count, "b": self.buy},
            use_bin_type=True,
        )

    @classmethod
    def decode(cls, data: bytes) -> Volume:
        """A stored value (written by our own writer: only its shape is checked)."""
        try:
            record = msgpack.unpackb(data, raw=False, strict_map_key=False)
            qty, count, buy = record["q"], record["n"], record["b"]
            if record["v"] != SCHEMA_VERSION or not all(
                isinstance(part, dict) for part in (qty, count, buy)
            ):
                raise ValueError("not a version 1 volume record")
        except Exception as exc:
            raise DecodeError(f"unreadable volume aggregate: {exc}") from exc
        return cls(qty, count, buy)

    @classmethod
    def of_trades(
        cls, prices: Iterable[int], qtys: Iterable[int], buyer_maker: Iterable[bool]
    ) -> Volume:
        volume = cls()
        volume.add_trades(prices, qtys, buyer_maker)
        return volume
