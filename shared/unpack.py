"""Columnar unpacking: MessagePack arrays of small tuples of integers straight into numpy.

A stored book side is a MessagePack array of ``[price, qty]`` pairs and a stored second's trades
an array of ``[agg_id, price, qty, ts_trade, buyer_maker]``. Decoding them into Python tuples and
copying those into arrays costs a Python object per number; ``unpack`` reads many such arrays at
once with the compiled walk (``shared.walk``: one loop over each array's bytes, no Python object
per element) into one int64 matrix.

Pure: bytes in, arrays out, no I/O. Only the encodings msgspec writes for the record types are
read by the walk (positive fixint and uint8..uint64 for ints, true/false for booleans, a
fixarray/array16/array32 header); an array holding anything else, or a value out of range, is
handed whole to ``fallback`` (the typed msgspec decode), which either reads it or raises the
record's ``DecodeError``. So the result is exactly the typed decode's, on every input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any

import numpy as np

from shared.scan import Scan
from shared.walk import headers, walk

# Whole arrays → (elements of each, all their elements as an (elements, arity) int64 matrix).
Fallback = Callable[[Sequence[bytes]], tuple[np.ndarray, np.ndarray]]


def rows(
    arrays: Sequence[Sequence[Any]], arity: int, fields: Callable[[Any], Iterable[int]] = iter
) -> tuple[np.ndarray, np.ndarray]:
    """(elements per array, every element's ``fields`` as an (elements, arity) int64 matrix) of
    typed-decoded arrays: what a ``Fallback`` returns."""
    counts = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
    total = int(counts.sum())
    values = chain.from_iterable(map(fields, chain.from_iterable(arrays)))
    return counts, np.fromiter(values, dtype=np.int64, count=arity * total).reshape(total, arity)


Buffer = bytes | memoryview  # anything ``bytes.join`` takes: bytes, memoryview, msgspec.Raw


def unpack(
    source: Scan | Sequence[Buffer],
    kinds: Sequence[int],
    most: int,
    fallback: Fallback,
    *,
    limit: int | None = None,
    spans: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(elements kept per array, their fields as an (elements, arity) int64 matrix).

    The arrays are the pieces of ``source`` (one each) or, with ``spans``, the byte ranges
    ``starts[i]:ends[i]`` of the pieces joined (of the ``Scan``). Each is one MessagePack array
    of at most ``most`` elements, each an array of ``len(kinds)`` fields; ``limit`` keeps the
    first N elements of each (the rest is not read).
    """
    arity = len(kinds)
    if spans is None:
        if isinstance(source, Scan):
            raise ValueError("the arrays of a Scan are given by their spans")
        lengths = np.fromiter(map(len, source), dtype=np.int64, count=len(source))
        ends = np.cumsum(lengths)
        starts = ends - lengths
    else:
        starts, ends = (np.ascontiguousarray(a, dtype=np.int64) for a in spans)
    scan = source if isinstance(source, Scan) else Scan(source)
    count, first = headers(scan.data, starts, ends, arity, most)
    readable = count >= 0
    # Arrays whose header is not read are decoded first: their element counts size the output.
    unread = np.flatnonzero(~readable)
    if len(unread):
        decoded = _decoded(fallback, scan.joined, starts, ends, unread)
        count[unread] = decoded[0]
    keep = count if limit is None else np.minimum(count, limit)
    offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(keep, out=offsets[1:])
    out = np.empty((int(offsets[-1]), arity), dtype=np.int64)
    walked = np.where(readable, keep, -1)  # -1: not walked
    after = walk(scan.data, first, ends, walked, offsets[:-1], np.asarray(kinds, np.int64), out)
    if len(unread):
        _place(out, offsets, unread, *decoded)
    # Read to its last element, an array must end exactly where its bytes end.
    needs = np.flatnonzero(readable & ((after < 0) | ((keep == count) & (after != ends))))
    if len(needs):  # an element off these rules: its whole array goes to ``fallback``
        _place(out, offsets, needs, *_decoded(fallback, scan.joined, starts, ends, needs))
    return np.diff(offsets), out


def _decoded(
    fallback: Fallback, joined: bytes, starts: np.ndarray, ends: np.ndarray, which: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``fallback`` of the arrays ``which``, in one call."""
    return fallback(
        [joined[start:end] for start, end in zip(starts[which], ends[which], strict=True)]
    )


def _place(
    out: np.ndarray,
    offsets: np.ndarray,
    which: np.ndarray,
    counts: np.ndarray,
    elements: np.ndarray,
) -> None:
    """Copy decoded elements of the arrays ``which`` to their rows of ``out``.

    ``counts``/``elements``: what ``fallback`` returned for them, in the same order.
    """
    keep = offsets[which + 1] - offsets[which]
    within = np.arange(int(keep.sum())) - np.repeat(np.cumsum(keep) - keep, keep)
    source = np.repeat(np.cumsum(counts) - counts, keep) + within
    out[np.repeat(offsets[which], keep) + within] = elements[source]
