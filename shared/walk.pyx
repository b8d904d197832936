# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Compiled walks over MessagePack arrays of small int tuples (stored levels and trades).

A stored book side is an array of ``[price, qty]`` elements, a stored second's trades an array
of ``[agg_id, price, qty, T, m]``. ``headers`` reads the array header at each start; ``walk``
reads every kept element of each array, one loop over its bytes, into an int64 matrix.

Only the encodings msgspec writes for booksnap's records are read: a positive fixint or
uint8..uint64 (at most 2**63 - 1) for an int, ``0xc2``/``0xc3`` for a boolean, a fixarray of the
element's arity per element. An array holding anything else is reported unread; the caller
typed-decodes it (``shared.codec``), which reads it or raises its ``DecodeError``. Every read is
bounded by the array's end: nothing here reads past the bytes it was given.

Pure: bytes in, arrays out, no I/O, no Python object per element.
"""

from libc.stdint cimport int64_t, uint8_t, uint64_t

import numpy as np

cdef enum:  # field kinds: an int >= 0, an int > 0 (both <= MAX_INT64), a bool
    _UINT = 0
    _AMOUNT = 1
    _BOOL = 2

UINT, AMOUNT, BOOL = _UINT, _AMOUNT, _BOOL


cdef inline int64_t _field(
    const uint8_t[::1] data, Py_ssize_t at, Py_ssize_t end, int64_t kind, Py_ssize_t* after
) noexcept nogil:
    """The value of one field at ``at`` (-1: not readable by these rules), ``after`` set past it."""
    cdef uint8_t header
    cdef Py_ssize_t width, i
    cdef uint64_t value
    if at >= end:
        return -1
    header = data[at]
    if kind == _BOOL:
        after[0] = at + 1
        if header == 0xC2:
            return 0
        if header == 0xC3:
            return 1
        return -1
    if header < 0x80:
        after[0] = at + 1
        value = header
    else:
        if header == 0xCC:
            width = 1
        elif header == 0xCD:
            width = 2
        elif header == 0xCE:
            width = 4
        elif header == 0xCF:
            width = 8
        else:
            return -1
        if at + 1 + width > end:
            return -1
        value = 0
        for i in range(width):
            value = (value << 8) | data[at + 1 + i]
        after[0] = at + 1 + width
        if value >> 63:
            return -1  # above MAX_INT64
    if kind == _AMOUNT and value == 0:
        return -1
    return <int64_t>value


def headers(
    const uint8_t[::1] data,
    const int64_t[::1] starts,
    const int64_t[::1] ends,
    int64_t arity,
    int64_t most,
):
    """(count, first element position) of the array header at each start; count -1 where the
    header is not a fixarray/array16/array32 of at most ``most`` elements whose smallest
    encoding (``1 + arity`` bytes each) fits before its end."""
    cdef Py_ssize_t rows = starts.shape[0], i, at
    counts_array = np.empty(rows, dtype=np.int64)
    first_array = np.empty(rows, dtype=np.int64)
    cdef int64_t[::1] counts = counts_array
    cdef int64_t[::1] first = first_array
    cdef int64_t count
    cdef uint8_t header
    with nogil:
        for i in range(rows):
            at = starts[i]
            count = -1
            if at < ends[i]:
                header = data[at]
                if header & 0xF0 == 0x90:
                    count, at = header & 0x0F, at + 1
                elif header == 0xDC and at + 3 <= ends[i]:
                    count, at = (<int64_t>data[at + 1] << 8) | data[at + 2], at + 3
                elif header == 0xDD and at + 5 <= ends[i]:
                    count = (
                        (<int64_t>data[at + 1] << 24)
                        | (<int64_t>data[at + 2] << 16)
                        | (<int64_t>data[at + 3] << 8)
                        | data[at + 4]
                    )
                    at = at + 5
                if count > most or count * (1 + arity) > ends[i] - at:
                    count = -1
            counts[i] = count
            first[i] = at
    return counts_array, first_array


def walk(
    const uint8_t[::1] data,
    const int64_t[::1] first,
    const int64_t[::1] ends,
    const int64_t[::1] keep,
    const int64_t[::1] rows,
    const int64_t[::1] kinds,
    int64_t[:, ::1] out,
):
    """Read ``keep[i]`` elements from ``first[i]`` (each a fixarray of ``kinds``) into ``out``
    from row ``rows[i]`` on, for every array with ``keep[i] >= 0``; ``out`` may have no rows
    (only the walk). Returns the position after each array's last kept element, -1 where an
    element is not readable, does not fit before ``ends[i]``, or ``keep[i] < 0``."""
    cdef Py_ssize_t arrays = first.shape[0], arity = kinds.shape[0], i, k, f, at, end, row
    cdef bint store = out.shape[0] > 0
    cdef uint8_t element = 0x90 | arity
    cdef int64_t value
    after_array = np.empty(arrays, dtype=np.int64)
    cdef int64_t[::1] after = after_array
    with nogil:
        for i in range(arrays):
            at, end = first[i], ends[i]
            if keep[i] < 0:
                after[i] = -1
                continue
            row = rows[i] if store else 0
            for k in range(keep[i]):
                if at >= end or data[at] != element:
                    at = -1
                    break
                at = at + 1
                for f in range(arity):
                    value = _field(data, at, end, kinds[f], &at)
                    if value < 0:
                        at = -1
                        break
                    if store:
                        out[row + k, f] = value
                if at < 0:
                    break
            after[i] = at
    return after_array
