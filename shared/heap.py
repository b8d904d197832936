"""Giving glibc's free heap memory back to the kernel (``malloc_trim``).

glibc serves a request of at least ``M_MMAP_THRESHOLD`` bytes with its own mapping, unmapped on
``free``; smaller ones come from the heap, which shrinks only from its top. The threshold starts
at 128 KiB but rises to the size of each mapped block freed (up to 32 MiB). RocksDB builds its
memtables from ~1 MiB blocks, so after the writer's first flush those blocks come from the heap,
and when a flushed memtable is freed they stay behind the records allocated meanwhile: the
writer's resident memory grew with each flush while the bytes in use did not (measured in
docs/operations.md, "Memory to plan for"). ``malloc_trim(0)`` hands every free page of every
arena back (``madvise``), wherever it lies: ~1.5 ms for a heap of tens of MB.

(A fixed threshold instead, ``mallopt(M_MMAP_THRESHOLD, 512 KiB)``, also fixed the growth but
cost the writer ~20 % of its ingest rate: its per-drain arrays of several MB were then mapped,
faulted in and unmapped on every drain.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes = (ctypes.c_size_t,)
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def give_back() -> bool:
    """Return the free pages of the C heap to the kernel; False where the C library has no
    ``malloc_trim`` (not glibc) or nothing could be returned."""
    return _TRIM is not None and bool(_TRIM(0))
