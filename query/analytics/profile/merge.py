"""VolumeColumns: volume aggregates and raw trades as int64 arrays, summed per exact price.

Merging a day of aggregates (~10^5 distinct prices) in Python dicts took ~0.5 s; here each
aggregate is a Chunk of arrays and ``merged()`` sums them once, with exact integer adds:
into a dense array over the price grid when it is compact (no sort), else after a sort. Values
that could overflow int64 switch the arrays to Python-int objects (slow, still exact).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from math import gcd
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from query.analytics.profile.histogram import PriceVolume
from shared.volume import Volume, unpack_aggregate

Array = npt.NDArray[Any]  # int64, or object (Python ints) when a sum could overflow int64
SAFE_TOTAL = 2.0**62  # value sums below this cannot overflow int64 (float error is far smaller)


class PriceMaps(Protocol):
    """One aggregate: quantity, trade count and taker-buy quantity per exact price."""

    @property
    def qty(self) -> Mapping[int, int]: ...
    @property
    def count(self) -> Mapping[int, int]: ...
    @property
    def buy(self) -> Mapping[int, int]: ...


class PriceColumns(NamedTuple):
    """Volume per distinct price, ascending, prices without trades removed (aligned arrays)."""

    prices: Array
    qtys: Array
    counts: Array
    buys: Array


def as_array(values: Iterable[int], length: int) -> Array:
    """int64 array of the values, or a Python-int object array if one does not fit int64."""
    try:
        return np.fromiter(values, dtype=np.int64, count=length)
    except OverflowError:
        return np.array(list(values), dtype=object)


Grid = tuple[int, int, int]
"""(lowest, highest, step) of some prices: each is lowest + a multiple of step (0: one price)."""


class Chunk(NamedTuple):
    """One aggregate's (or a run of raw trades') arrays, with what ``merged()`` checks first."""

    count_keys: Array
    counts: Array
    qty_keys: Array  # often the count_keys object itself (the writer's maps share their keys)
    qtys: Array
    buy_keys: Array
    buys: Array
    grids: tuple[Grid | None, Grid | None, Grid | None]  # of the three key arrays
    peak: int  # the largest |value|, or -1 when the values are Python-int objects
    unique: bool  # no key repeats within a key array (an aggregate, not raw trades)


def key_grid(keys: Array) -> Grid | None:
    """The Grid of int64 keys; None when empty or Python ints."""
    if keys.dtype == object or not len(keys):
        return None
    low = int(keys.min())
    return low, int(keys.max()), int(np.gcd.reduce(keys - low))


def make_chunk(
    arrays: tuple[Array, Array, Array, Array, Array, Array], *, unique: bool = False
) -> Chunk:
    """A Chunk of (count keys, counts, qty keys, qtys, buy keys, buys), grids and peak measured.

    ``unique``: the caller knows that no key repeats within each key array.
    """
    count_keys, counts, qty_keys, qtys, buy_keys, buys = arrays
    values = (counts, qtys, buys)
    peak = -1
    if all(v.dtype != object for v in values):
        peak = max((max(int(v.max()), -int(v.min())) for v in values if len(v)), default=0)
    count_grid = key_grid(count_keys)
    grids = (
        count_grid,
        None if qty_keys is count_keys else key_grid(qty_keys),
        count_grid if buy_keys is count_keys else key_grid(buy_keys),
    )
    return Chunk(count_keys, counts, qty_keys, qtys, buy_keys, buys, grids, peak, unique)


def chunk_of_stored(value: bytes) -> Chunk:
    """The arrays of one stored aggregate value, packed (no copy) or maps (older writers)."""
    unpacked = unpack_aggregate(value)
    if isinstance(unpacked, Volume):
        return chunk_of(unpacked)
    prices, qtys, counts, buys = unpacked  # strictly ascending prices, checked when unpacked
    return make_chunk((prices, counts, prices, qtys, prices, buys), unique=True)


def chunk_of(volume: PriceMaps) -> Chunk:
    """The arrays of one decoded aggregate (a ``shared.volume.Volume``)."""
    count_keys = as_array(volume.count, len(volume.count))
    qty_keys = as_array(volume.qty, len(volume.qty))
    # The writer fills both maps from the same prices in the same order; check, do not assume.
    if qty_keys.dtype == count_keys.dtype and np.array_equal(qty_keys, count_keys):
        qty_keys = count_keys
    return make_chunk(
        (
            count_keys,
            as_array(volume.count.values(), len(volume.count)),
            qty_keys,
            as_array(volume.qty.values(), len(volume.qty)),
            as_array(volume.buy, len(volume.buy)),
            as_array(volume.buy.values(), len(volume.buy)),
        ),
        unique=True,  # map keys
    )


class ChunkSource(Protocol):
    """Turns a stored aggregate value into its arrays (``profile.cache.AggregateCache``)."""

    def chunk(self, value: bytes, origin: Hashable) -> Chunk: ...


class VolumeColumns:
    """Collects aggregates and raw trades as arrays; ``merged()`` sums them per price once."""

    def __init__(self, source: ChunkSource | None = None, *, traded_only: bool = True) -> None:
        self._source = source
        # Stored aggregates: a price without trades is dropped, as ``Volume.rows()`` does. Rows
        # given to ``get_volume_profile`` keep any price with volume, so ``of_rows`` keeps them.
        self.traded_only = traded_only
        self._chunks: list[Chunk] = []

    def add_aggregate(self, value: bytes, origin: Hashable = None) -> None:
        """Add one stored aggregate value (``Volume.encode``); ``origin`` names where it is kept."""
        if self._source is None or origin is None:
            self._chunks.append(chunk_of_stored(value))
        else:
            self._chunks.append(self._source.chunk(value, origin))

    def add(self, volume: PriceMaps) -> None:
        """Add one decoded aggregate."""
        self._chunks.append(chunk_of(volume))

    def add_trades(
        self, prices: Iterable[int], qtys: Iterable[int], buyer_maker: Iterable[bool]
    ) -> None:
        """Add raw trades given as columns (same length), summed by ``shared.volume.Volume``."""
        volume = Volume.of_trades(prices, qtys, buyer_maker)
        if len(volume):
            self.add(volume)

    @classmethod
    def of_rows(cls, rows: Iterable[PriceVolume]) -> VolumeColumns:
        """The columns of PriceVolume rows (prices may repeat)."""
        listed = list(rows)
        columns = cls(traded_only=False)
        if listed:
            prices, qtys, counts, buys = (
                as_array(c, len(listed)) for c in zip(*listed, strict=True)
            )
            columns._chunks.append(make_chunk((prices, counts, prices, qtys, prices, buys)))
        return columns

    def merged(self) -> PriceColumns:
        """Exact sums per distinct price (ascending), only prices with a non-zero trade count.

        Like ``Volume.rows()``: a price counts when it has trades; its qty and taker-buy qty are
        looked up by price (an aggregate may omit a price from its taker-buy map). Only the
        count keys define the prices, so a qty-only price (not from the writer) is ignored.
        """
        if not self._chunks:
            empty = np.zeros(0, dtype=np.int64)
            return PriceColumns(empty, empty, empty, empty)
        chunks = self._chunks
        bound = sum(c.peak * max(len(c.counts), len(c.qtys), len(c.buys)) for c in chunks)
        exact = all(c.peak >= 0 for c in chunks) and bound < SAFE_TOTAL
        grid = _common_grid(chunks) if exact else None
        if grid is not None:
            merged = _merge_dense(chunks, *grid)
        else:
            arrays = [_concat(part) for part in zip(*(c[:6] for c in chunks), strict=True)]
            if not exact:
                arrays[1::2] = [a.astype(object) for a in arrays[1::2]]
            same_keys = all(c.count_keys is c.qty_keys for c in chunks)
            merged = _merge_sorted(arrays, same_keys)
        keep = merged.counts != 0
        if not self.traded_only:
            keep |= merged.qtys != 0
        return PriceColumns(*(column[keep] for column in merged))


def _common_grid(chunks: list[Chunk]) -> tuple[int, int, int] | None:
    """(lowest price, step, slots) when all count keys fit a dense array, else None."""
    grids = [c.grids[0] for c in chunks if len(c.count_keys)]
    if not grids or any(g is None for g in grids):
        return None
    low = min(g[0] for g in grids if g is not None)
    high = max(g[1] for g in grids if g is not None)
    step = 0
    for g in grids:
        if g is not None:
            step = gcd(step, g[2], g[0] - low)
    step = step or 1
    slots = (high - low) // step + 1
    if slots > max(4 * sum(len(c.count_keys) for c in chunks), 1 << 20):
        return None  # too sparse for a dense array: sort instead
    return low, step, slots


def _merge_dense(chunks: list[Chunk], low: int, step: int, slots: int) -> PriceColumns:
    """Sum into one slot per grid price (no sort): the prices are ``low + slot * step``."""
    count = np.zeros(slots, dtype=np.int64)
    qty = np.zeros(slots, dtype=np.int64)
    buy = np.zeros(slots, dtype=np.int64)
    for c in chunks:
        if not len(c.count_keys):
            continue
        where = (c.count_keys - low) // step if step > 1 else c.count_keys - low
        _add(count, where, c.counts, c.unique)
        if c.qty_keys is c.count_keys:
            _add(qty, where, c.qtys, c.unique)
        else:
            _add_on_grid(qty, c.qty_keys, c.qtys, c.grids[1], (low, step, slots), c.unique)
        if c.buy_keys is c.count_keys:
            _add(buy, where, c.buys, c.unique)
        else:
            _add_on_grid(buy, c.buy_keys, c.buys, c.grids[2], (low, step, slots), c.unique)
    used = np.flatnonzero((count != 0) | (qty != 0))  # merged() picks which it keeps
    return PriceColumns(used * step + low, qty[used], count[used], buy[used])


def _add(out: Array, where: Array, values: Array, unique: bool) -> None:
    """``out[where] += values``, repeated indices included (``np.add.at``, ~50x slower)."""
    if unique:
        out[where] += values  # each index once: the buffered fancy add is exact
    else:
        np.add.at(out, where, values)


def _add_on_grid(  # noqa: PLR0917  (internal, one call site)
    out: Array,
    keys: Array,
    values: Array,
    grid: Grid | None,
    dense: tuple[int, int, int],
    unique: bool,
) -> None:
    """``out[slot of key] += value``, skipping keys that are not grid prices."""
    if not len(keys):
        return
    low, step, slots = dense
    high = low + (slots - 1) * step
    # Every key is a grid price within the slots: no per-key check needed.
    fits = grid is not None and low <= grid[0] and grid[1] <= high
    if fits and grid is not None and not (grid[0] - low) % step and not grid[2] % step:
        _add(out, (keys - low) // step, values, unique)
        return
    offset = keys - low
    on_grid = (offset >= 0) & (offset % step == 0) & (offset // step < slots)
    _add(out, offset[on_grid] // step, values[on_grid], unique)


def _merge_sorted(arrays: list[Array], same_keys: bool) -> PriceColumns:
    """The general merge: sort the distinct prices, add each value at its price's index."""
    count_keys, counts, qty_keys, qtys, buy_keys, buys = arrays
    prices, inverse = np.unique(count_keys, return_inverse=True)
    count = np.zeros(len(prices), dtype=counts.dtype)
    np.add.at(count, inverse, counts)
    qty = _sum_at(prices, inverse if same_keys else None, qty_keys, qtys)
    buy = _sum_at(prices, None, buy_keys, buys)
    return PriceColumns(prices, qty, count, buy)


def _concat(arrays: Iterable[Array]) -> Array:
    listed = list(arrays)
    if any(a.dtype == object for a in listed):
        return np.concatenate([a.astype(object) for a in listed])
    return np.concatenate(listed)


def _sum_at(prices: Array, inverse: Array | None, keys: Array, values: Array) -> Array:
    """Sum ``values`` per price of ``prices`` (sorted); keys not among them are ignored."""
    out = np.zeros(len(prices), dtype=values.dtype)
    if inverse is None:
        if not len(keys):
            return out
        index = np.searchsorted(prices, keys)
        found = index < len(prices)
        found[found] = prices[index[found]] == keys[found]
        np.add.at(out, index[found], values[found])
    else:
        np.add.at(out, inverse, values)
    return out
