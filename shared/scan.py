"""Vectorised reading of MessagePack: one operation reads the same item at many positions.

``Scan`` holds a run of stored bytes; each method takes an array of byte positions (one per
record) and returns arrays: values and the positions just after them. It reads the scalar fields
of a run's records (``shared.envelope``); the arrays inside them are walked by the compiled
``shared.walk``. Only the encodings msgspec writes for booksnap's records are read: positive
fixint and uint8..uint64 for ints. Anything else reads as out of range, so the caller hands that
record to the typed decode (``shared.codec``), which reads it or raises its ``DecodeError``.

Pure: bytes in, arrays out, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PADDING = 64  # bytes after the data: a read that runs past a record's end stays in the buffer


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per header byte: where an int's big-endian value word starts, its shift, and its width.

    A fixint is its own header byte (offset 0, shift 56: the word's top byte); ``0xcc``..``0xcf``
    carry 1, 2, 4 or 8 bytes after the header. Any other byte (>= 0x80) reads as the word that
    starts with it, unshifted: its top bit is set, so the value is negative as an int64 and
    fails the range check like a value above MAX_INT64 does.
    """
    offset = np.zeros(256, dtype=np.int64)
    shift = np.zeros(256, dtype=np.uint64)
    width = np.ones(256, dtype=np.int64)
    shift[:0x80] = 56
    for header, size in ((0xCC, 1), (0xCD, 2), (0xCE, 4), (0xCF, 8)):
        offset[header], shift[header], width[header] = 1, 64 - 8 * size, 1 + size
    return offset, shift, width


_OFFSET, _SHIFT, _WIDTH = _tables()


class Scan:
    """A run of bytes (``joined``, padded) read at many positions at once."""

    def __init__(self, pieces: Sequence[bytes | memoryview]) -> None:
        # The pieces and the padding in one join: ``joined + padding`` copied the whole run once
        # more into a fresh allocation (~0.6 ms for a writer's run of 1,000 books).
        self.joined = b"".join([*pieces, bytes(PADDING)])  # PADDING zero bytes at the end
        self.data = np.frombuffer(self.joined, dtype=np.uint8)
        # The 64-bit word at every byte: an unaligned, overlapping native view, byte-swapped
        # once gathered (numpy computes on big-endian arrays through slow buffered casts).
        self._words = np.ndarray(
            (len(self.data) - 7,), dtype=np.uint64, buffer=self.data, strides=(1,)
        )

    def word(self, at: np.ndarray) -> np.ndarray:
        """The big-endian 64-bit word starting at each position."""
        return self._words[at].byteswap()

    def uint(self, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(value, position after it) of the int at each position; value < 0: not readable."""
        header = self.data[at].astype(np.intp)
        word = self.word(at + _OFFSET.take(header)) >> _SHIFT.take(header)
        return word.view(np.int64), at + _WIDTH.take(header)  # above MAX_INT64: negative

    def equals(self, at: np.ndarray, expected: bytes) -> np.ndarray:
        """Whether the bytes at each position are ``expected`` (at most PADDING of them)."""
        window = self.data[at[:, None] + np.arange(len(expected))]
        return (window == np.frombuffer(expected, dtype=np.uint8)).all(axis=1)

    def equals_each(
        self, at: np.ndarray, expected: Sequence[bytes]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(whether the bytes at each position are its own ``expected[i]``, their lengths).

        Each expected value is at most PADDING bytes; few distinct values (a run's symbols).
        """
        distinct = {value: index for index, value in enumerate(dict.fromkeys(expected))}
        widest = max(map(len, distinct), default=0)
        table = np.zeros((len(distinct), widest), dtype=np.uint8)
        width = np.zeros(len(distinct), dtype=np.int64)
        for value, index in distinct.items():
            table[index, : len(value)] = np.frombuffer(value, dtype=np.uint8)
            width[index] = len(value)
        which = np.fromiter(map(distinct.__getitem__, expected), dtype=np.intp, count=len(at))
        window = self.data[at[:, None] + np.arange(widest)]
        compared = np.arange(widest) < width[which][:, None]
        same = ((window == table[which]) | ~compared).all(axis=1)
        return same, width[which]
