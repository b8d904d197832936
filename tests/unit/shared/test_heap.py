"""shared/heap.py: freed heap memory goes back to the kernel (real glibc)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.processes import REPO

# A memtable's life in miniature: 16 blocks of 1 MiB written, small records (above pymalloc's
# 512 bytes, so from malloc's heap) kept meanwhile, then the blocks freed; five times.
PATTERN = """
import sys
from shared.heap import give_back
def rss():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) * 1024 for l in status if l.startswith("VmRSS"))
first = bytearray(1 << 20)
del first  # glibc's dynamic threshold rises to 1 MiB: later blocks come from the heap
before = rss()
keep = []
for _ in range(5):
    blocks = [bytearray(1 << 20) for _ in range(16)]
    keep.extend(bytes(1500) for _ in range(2000))
    del blocks
if sys.argv[1] == "given back" and not give_back():
    print("unsupported")
    raise SystemExit
print(rss() - before)
"""
KEPT = 5 * 2000 * 1500


def grown(mode: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", PATTERN, mode], cwd=REPO, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_freed_blocks_behind_kept_records_go_back_to_the_kernel():
    given = grown("given back")
    if given == "unsupported":
        pytest.skip("the C library has no malloc_trim (not glibc)")
    kept = int(grown("kept"))
    # Given back: only what is kept stays resident. Otherwise the freed blocks stay in the heap
    # behind the records kept meanwhile (a memtable's worth, 16 MiB, here).
    assert int(given) < KEPT * 1.3
    assert kept > int(given) + 8 * 1024 * 1024
