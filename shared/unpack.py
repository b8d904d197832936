"""Columnar unpacking: MessagePack arrays of small tuples of integers straight into numpy.

A stored book side is a MessagePack array of ``[price, qty]`` pairs and a stored second's trades
an array of ``[agg_id, price, qty, ts_trade, buyer_maker]``. Decoding them into Python tuples and
copying those into arrays costs a Python object per number; ``unpack`` reads many such arrays at
once, one *element position* at a time: step ``k`` decodes the ``k``-th tuple of every array that
has one, each field with a handful of whole-column numpy operations (a gather of the big-endian
word at each field, a shift by a width taken from the field's header byte). The number of steps
is the length of the longest array, so the arrays still running after a step are few only at the
tail; the few longest arrays, which would need many steps each, are read by ``fallback``.

Pure: bytes in, arrays out, no I/O. Only the encodings msgspec writes for the record types are
taken on the fast path (positive fixint and uint8..uint64 for ints, true/false for booleans, a
fixarray/array16/array32 header); an array holding anything else, or a value out of range, is
handed whole to ``fallback`` (the typed msgspec decode), which either reads it or raises the
record's ``DecodeError``. So the result is exactly the typed decode's, on every input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any

import numpy as np

from shared.codec import array_header as _array_header
from shared.scan import Scan

# What one numpy step costs, in elements typed-decoded by ``fallback`` instead (a step is ~30
# whole-column calls: ~3-7 µs; typed-decoding an element ~0.14-0.24 µs). The steps' own
# per-element work and cache effects make the best value larger than that ratio: on a day of
# BTCUSDT (``python -m benchmarks history``) 64 and 128 are equally fast, 256 slower.
STEP_COST = 64

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
        starts, ends = spans
    rows = len(starts)
    scan = source if isinstance(source, Scan) else Scan(source)
    joined = scan.joined
    count, position, readable = scan.arrays(starts, ends, arity=arity, most=most)
    # Arrays the steps cannot start are decoded first: their element counts size the output.
    unread = np.flatnonzero(~readable)
    if len(unread):
        first = _decoded(fallback, joined, starts, ends, unread)
        count[unread] = first[0]
    keep = count if limit is None else np.minimum(count, limit)
    offsets = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(keep, out=offsets[1:])
    stepped = np.where(readable, keep, 0)
    # Longest first: the arrays still running at each step are then a prefix of this order.
    order = np.argsort(-stepped, kind="stable")
    longest = int(stepped.max(initial=0))
    running = np.searchsorted(-stepped[order], -np.arange(longest))  # more than ``step`` left
    # Step as long as that pays: ``steps`` steps read the first ``steps`` elements of every
    # array; the rest of the longer ones goes to ``fallback``. A step costs about what
    # typed-decoding STEP_COST elements costs; the cheapest split wins.
    if longest:
        beyond = np.cumsum(stepped[order])[running - 1] - np.arange(longest) * running
        steps = int(np.argmin(STEP_COST * np.arange(longest + 1) + np.append(beyond, 0)))
    else:
        steps = 0
    longer = int(running[steps]) if steps < longest else 0  # arrays with a rest to hand over
    # Per-array state in that order, so a step works on contiguous slices.
    at_sorted, end_sorted, row_sorted = position[order], ends[order], offsets[:-1][order]
    broken = np.zeros(rows, dtype=bool)
    element_at = np.full(int(offsets[-1]), -1, dtype=np.int64)  # where each walked one starts
    for step in range(steps):
        # A step only walks: from each header byte to the next field. Reading and checking the
        # values is done once for every walked element, after the steps (``Scan.elements``).
        now = slice(0, int(running[step]))
        at = at_sorted[now]
        element_at[row_sorted[now] + step] = at
        at = scan.step(at, kinds)
        end = end_sorted[now]
        ok = at <= end  # an element never reaches past its array's bytes
        if ok.all():
            at_sorted[now] = at
        else:  # a broken array walks on harmlessly from its end; ``fallback`` redoes it
            at_sorted[now] = np.where(ok, at, end)
            broken[now] |= ~ok
    position[order] = at_sorted
    needs = np.zeros(rows, dtype=bool)
    needs[order] = broken
    # Every row at once; rows the steps did not reach read the buffer's first bytes harmlessly
    # and are filled by ``fallback`` below.
    walked = element_at >= 0
    out, readable_rows = scan.elements(np.where(walked, element_at, 0), kinds)
    unreadable = walked & ~readable_rows
    if unreadable.any():  # an element off the fast path: its whole array goes to ``fallback``
        owner = np.repeat(np.arange(rows), keep)
        needs[owner[unreadable]] = True
    # Read to its last element by the steps, an array must end exactly where its bytes end.
    read_whole = readable & (keep == count)
    read_whole[order[:longer]] = False
    needs |= read_whole & (position != ends)
    if len(unread):
        _place(out, offsets, unread, *first)
    rest = order[:longer][~needs[order[:longer]]]
    if len(rest):  # the elements after the first ``steps``, as arrays of their own
        left = (count[rest] - steps).tolist()
        tails = [
            _array_header(n) + joined[start:end]
            for n, start, end in zip(
                left, position[rest].tolist(), ends[rest].tolist(), strict=True
            )
        ]
        _place(out, offsets, rest, *fallback(tails), skip=steps)
    last = np.flatnonzero(needs & readable)
    if len(last):
        _place(out, offsets, last, *_decoded(fallback, joined, starts, ends, last))
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
    *,
    skip: int = 0,
) -> None:
    """Copy decoded elements of the arrays ``which`` to their rows of ``out``, after ``skip``.

    ``counts``/``elements``: what ``fallback`` returned for them, in the same order.
    """
    keep = offsets[which + 1] - offsets[which] - skip
    within = np.arange(int(keep.sum())) - np.repeat(np.cumsum(keep) - keep, keep)
    source = np.repeat(np.cumsum(counts) - counts, keep) + within
    out[np.repeat(offsets[which] + skip, keep) + within] = elements[source]
