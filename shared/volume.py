"""Pre-aggregated traded volume: per exact price, for one minute or one hour of a symbol.

The writer keeps these in the ``volume`` (minutes) and ``volume_hours`` column families, in the
same synced batch as the trades they sum (``writer/volume.py``); the query process merges them
with raw trades at ragged edges (``query/volume_reader.py``). In memory a ``Volume`` is three flat
int maps (merging them is ``dict.update`` over C iterators: no Python loop per price). Stored, a
value is msgpack in one of two layouts (docs/storage.md):

- version 2, *packed* (what the writer writes): ``{"v": 2, "p": prices, "q": qtys, "n": trades,
  "b": taker_buy_qtys}``, each a msgpack bin of little-endian int64 (scaled by 1e8), aligned, the
  prices strictly ascending. A reader maps them as arrays without a loop per price
  (``packed_columns``): a day of hour aggregates is ~10^6 prices.
- version 1, three maps ``{"v": 1, "q": {price: qty}, "n": {price: trades}, "b": {price: qty}}``
  (``b`` omits prices without taker buys): written by earlier writers, and still by this one for
  an aggregate whose values do not fit int64 (a huge-supply token's hour of volume).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import compress, repeat
from operator import add, attrgetter, neg, not_
from typing import Any, NamedTuple

import msgpack
import numpy as np
import numpy.typing as npt

from shared.errors import DecodeError
from shared.model import Trade

MINUTE = 60
HOUR = 3600
MAPS_VERSION = 1
PACKED_VERSION = 2
INT64 = np.dtype("<i8")
MAX_SUM = 2**63 - 1  # int64: a column sum in numpy stays exact below it
_PRICE, _QTY, _MAKER = attrgetter("price"), attrgetter("qty"), attrgetter("buyer_maker")


class PackedColumns(NamedTuple):
    """A packed aggregate's aligned int64 arrays (read-only views of the stored bytes)."""

    prices: npt.NDArray[Any]  # strictly ascending
    qtys: npt.NDArray[Any]
    counts: npt.NDArray[Any]
    buys: npt.NDArray[Any]


def _accumulate(target: dict[int, int], keys: Iterable[int], values: Iterable[int]) -> None:
    """``target[k] += v`` for each pair, repeated keys included, in C.

    ``dict.update`` takes the pairs one at a time, and ``map`` computes each sum lazily, so a key
    seen again reads the sum just stored for it.
    """
    keys = keys if isinstance(keys, (list, tuple, dict)) else list(keys)
    # dict.update, not target.update: a Counter's update would count the pairs themselves.
    dict.update(target, zip(keys, map(add, map(target.get, keys, repeat(0)), values), strict=True))


def _put(target: dict[int, int], keys: list[int], values: list[int]) -> None:
    """``_accumulate`` into an empty ``target`` (``keys`` distinct): the pairs as they are."""
    dict.update(target, zip(keys, values, strict=True))


def trade_columns(
    trades: Sequence[Trade],
) -> tuple[list[int], list[int], list[bool]]:
    """(prices, quantities, maker flags) of trades, in trade order (C-level attribute maps)."""
    return list(map(_PRICE, trades)), list(map(_QTY, trades)), list(map(_MAKER, trades))


class Volume:
    """Traded quantity, trade count and taker-buy quantity per exact price (scaled ints).

    The one summation of trades by price in booksnap: the writer's aggregates, the query's reads
    of raw trades and the volume profile all add trades through ``add_trades``/``add_columns``.

    A ``Volume`` is in one of two forms, the same numbers either way:

    - *columns*: a list of ``PackedColumns`` parts not yet summed by price (a part's prices may
      repeat and come in any order). ``add_columns`` and ``add`` of another columns-form volume
      only append parts; ``encode``/``rows`` sum them once, in numpy (the writer's hot path: a
      minute's trades are summed once, when its aggregate is written);
    - *maps*: three int maps (``qty``, ``count``, ``buy``), entered by any access to them, by
      ``add_trades``, by a subtraction, or when a sum could leave int64 (Python ints are exact).
    """

    __slots__ = ("_buy", "_count", "_parts", "_qty", "_reduced")

    def __init__(
        self,
        qty: dict[int, int] | None = None,
        count: dict[int, int] | None = None,
        buy: dict[int, int] | None = None,
    ) -> None:
        self._qty: dict[int, int] = {} if qty is None else qty
        # A Counter: its update() with an iterable counts keys in C.
        self._count: Counter[int] = Counter() if count is None else Counter(count)
        self._buy: dict[int, int] = {} if buy is None else buy
        # Columns form (only while the maps are empty); _reduced: one part, prices ascending.
        self._parts: list[PackedColumns] = []
        self._reduced = False

    @property
    def qty(self) -> dict[int, int]:
        if self._parts:
            self._to_maps()
        return self._qty

    @property
    def count(self) -> Counter[int]:
        if self._parts:
            self._to_maps()
        return self._count

    @property
    def buy(self) -> dict[int, int]:
        if self._parts:
            self._to_maps()
        return self._buy

    def __len__(self) -> int:
        return len(self.count)

    def _is_empty(self) -> bool:
        return not (self._parts or self._qty or self._count or self._buy)

    def add_trades(
        self, prices: Iterable[int], qtys: Iterable[int], buyer_maker: Iterable[bool]
    ) -> None:
        """Add trades given as columns (same length, in any order)."""
        prices, qtys = list(prices), list(qtys)
        if not prices:
            return
        _accumulate(self.qty, prices, qtys)
        self.count.update(prices)
        taker_buys = list(map(not_, buyer_maker))
        if any(taker_buys):
            _accumulate(self.buy, list(compress(prices, taker_buys)), compress(qtys, taker_buys))

    def add_columns(self, prices: np.ndarray, qtys: np.ndarray, buyer_maker: np.ndarray) -> None:
        """``add_trades`` of int64 columns (``buyer_maker`` 0/1): kept as a part, summed by
        price in numpy when needed (in maps form: summed now, each distinct price once)."""
        total = len(prices)
        if not total:
            return
        buys = np.where(buyer_maker == 0, qtys, 0)
        part = PackedColumns(prices, qtys, np.ones(total, dtype=INT64), buys)
        if self._parts or self._is_empty():
            self._append(part)
            return
        summed = _summed([part])
        if summed is None:  # a sum could overflow int64: Python ints
            self.add_trades(prices.tolist(), qtys.tolist(), (buyer_maker != 0).tolist())
            return
        keys = summed.prices.tolist()
        _accumulate(self._qty, keys, summed.qtys.tolist())
        _accumulate(self._count, keys, summed.counts.tolist())
        taker = np.flatnonzero(summed.buys)  # every quantity is > 0: a taker buy sums to > 0
        if len(taker):
            _accumulate(self._buy, summed.prices[taker].tolist(), summed.buys[taker].tolist())

    def add(self, other: Volume, sign: int = 1, *, prune: bool = True) -> None:
        """``self += sign * other``; with ``prune``, prices left with no trade are removed.

        (A difference of two aggregates is kept unpruned: the same trade count with another
        quantity is a real change.)
        """
        if other._is_empty():
            return  # nothing to add (an hour's empty minutes: most of them, after a restart)
        if (
            sign == 1
            and other._parts
            and (self._parts or self._is_empty())
            and all(int(part.counts.min()) > 0 for part in other._parts)
        ):
            # Nothing can be pruned (every count only grows): the parts are the sum.
            reduced = self._is_empty() and other._reduced
            for part in other._parts:
                self._append(part)
            self._reduced = reduced
            return
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
        summed = self._sum_parts()
        if summed is not None:
            traded = np.flatnonzero(summed.counts)
            return list(zip(*(column[traded].tolist() for column in summed), strict=True))
        buy = self.buy.get
        qty = self.qty.get
        return [(p, qty(p, 0), n, buy(p, 0)) for p, n in sorted(self.count.items()) if n]

    def encode(self) -> bytes | None:
        """The stored value: packed (version 2) unless a value does not fit int64; None when
        one does not fit a MessagePack integer either (beyond -2^63..2^64-1: a sum of a few
        hostile or huge-supply quantities). No aggregate can hold that period; readers then
        sum its raw trades, exactly."""
        summed = self._sum_parts()
        if summed is not None:
            columns: Sequence[np.ndarray] = summed
        else:
            qty, count, buy = self.qty.get, self.count.get, self.buy.get
            try:
                # The union of the prices by a dict merge and a numpy sort.
                prices = np.fromiter({**self.qty, **self.count, **self.buy}, dtype=INT64)
                prices.sort()
                keys = prices.tolist()
                columns = [
                    prices,
                    *(
                        np.fromiter(map(values, keys, repeat(0)), dtype=INT64, count=len(keys))
                        for values in (qty, count, buy)
                    ),
                ]
            except OverflowError:
                return self.encode_maps()
        return msgpack.packb(
            {
                "v": PACKED_VERSION,
                **dict(
                    zip(
                        "pqnb",
                        (c.astype(INT64, copy=False).tobytes() for c in columns),
                        strict=True,
                    )
                ),
            },
            use_bin_type=True,
        )

    def encode_maps(self) -> bytes | None:
        """The version 1 value: three msgpack maps (ints up to 2^64-1); None beyond."""
        try:
            return msgpack.packb(
                {"v": MAPS_VERSION, "q": self.qty, "n": self.count, "b": self.buy},
                use_bin_type=True,
            )
        except OverflowError:
            return None

    @classmethod
    def decode(cls, data: bytes) -> Volume:
        """A stored value of either version (our own writer's: only its shape is checked)."""
        unpacked = unpack_aggregate(data)
        if isinstance(unpacked, Volume):
            return unpacked
        volume = cls()
        if len(unpacked.prices):
            volume._parts.append(unpacked)
            volume._reduced = True
        return volume

    @classmethod
    def of_columns(cls, prices: np.ndarray, qtys: np.ndarray, buyer_maker: np.ndarray) -> Volume:
        volume = cls()
        volume.add_columns(prices, qtys, buyer_maker)
        return volume

    @classmethod
    def of_trades(
        cls, prices: Iterable[int], qtys: Iterable[int], buyer_maker: Iterable[bool]
    ) -> Volume:
        volume = cls()
        volume.add_trades(prices, qtys, buyer_maker)
        return volume

    # --- columns form ---------------------------------------------------------------------------

    def _append(self, part: PackedColumns) -> None:
        self._parts.append(part)
        self._reduced = False
        if len(self._parts) > MAX_PARTS:
            self._sum_parts()  # bound the list (and what its arrays hold) for a long-open minute

    def _sum_parts(self) -> PackedColumns | None:
        """The parts summed into one (ascending prices), or None in maps form (entered now if
        a sum could overflow int64)."""
        if not self._parts:
            return None
        if self._reduced:
            return self._parts[0]
        summed = _summed(self._parts)
        if summed is None:
            self._to_maps()
            return None
        self._parts, self._reduced = [summed], True
        return summed

    def _to_maps(self) -> None:
        """Leave the columns form: the parts summed into the maps, exactly (Python ints)."""
        parts, self._parts, self._reduced = self._parts, [], False
        summed = _summed(parts)
        if summed is not None:
            parts = [summed]
        for part in parts:
            keys = part.prices.tolist()
            _accumulate(self._qty, keys, part.qtys.tolist())
            _accumulate(self._count, keys, part.counts.tolist())
            bought = np.flatnonzero(part.buys)
            if len(bought):
                _accumulate(self._buy, part.prices[bought].tolist(), part.buys[bought].tolist())


MAX_PARTS = 64  # columns-form parts before they are summed into one


def _summed(parts: Sequence[PackedColumns]) -> PackedColumns | None:
    """Parts summed by price (prices ascending, distinct); None if a sum could overflow int64."""
    if len(parts) == 1:
        prices, qtys, counts, buys = parts[0]
    else:
        prices, qtys, counts, buys = (np.concatenate(column) for column in zip(*parts, strict=True))
    total = len(prices)
    if not total:
        return PackedColumns(prices, qtys, counts, buys)
    bound = MAX_SUM // total
    for column in (qtys, counts, buys):
        if int(column.max()) > bound or int(column.min()) < -bound:
            return None
    order = np.argsort(prices, kind="stable")
    prices = prices[order]
    first = np.flatnonzero(np.concatenate(([True], prices[1:] != prices[:-1])))
    return PackedColumns(
        prices[first],
        *(np.add.reduceat(column[order], first) for column in (qtys, counts, buys)),
    )


def unpack_aggregate(data: bytes) -> PackedColumns | Volume:
    """A stored aggregate as arrays (version 2) or maps (version 1); DecodeError otherwise."""
    try:
        record = msgpack.unpackb(data, raw=False, strict_map_key=False)
        version = record["v"]
        if version == PACKED_VERSION:
            return _packed(record)
        qty, count, buy = record["q"], record["n"], record["b"]
        if version != MAPS_VERSION or not all(isinstance(part, dict) for part in (qty, count, buy)):
            raise ValueError(f"not a volume record of version 1 or 2 (v={version!r})")
    except DecodeError:
        raise
    except Exception as exc:
        raise DecodeError(f"unreadable volume aggregate: {exc}") from exc
    return Volume(qty, count, buy)


def _packed(record: dict[str, Any]) -> PackedColumns:
    parts = [record["p"], record["q"], record["n"], record["b"]]
    if not all(isinstance(part, bytes) for part in parts):
        raise DecodeError("packed volume aggregate: columns must be bin")
    sizes = {len(part) for part in parts}
    if len(sizes) != 1 or sizes.pop() % INT64.itemsize:
        raise DecodeError("packed volume aggregate: columns of different or odd lengths")
    columns = PackedColumns(*(np.frombuffer(part, dtype=INT64) for part in parts))
    if len(columns.prices) > 1 and not (np.diff(columns.prices) > 0).all():
        raise DecodeError("packed volume aggregate: prices not strictly ascending")
    return columns
