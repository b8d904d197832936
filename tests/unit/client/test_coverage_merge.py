"""Coverage asked day by day and merged equals coverage computed over the whole range at once."""

from __future__ import annotations

import random

import pytest

from booksnap.coverage import day_chunks, ends_missing, merge


def missing_ranges(stored: set[int], start: int, end: int) -> list[tuple[int, int]]:
    """The reference: runs of absent seconds, found by walking every second."""
    ranges: list[tuple[int, int]] = []
    for second in range(start, end + 1):
        if second in stored:
            continue
        if ranges and ranges[-1][1] == second - 1:
            ranges[-1] = (ranges[-1][0], second)
        else:
            ranges.append((second, second))
    return ranges


def reply(stored: set[int], start: int, end: int, limit: int) -> dict:
    """What the query process answers for ``start..end``, listing at most ``limit`` ranges."""
    ranges = missing_ranges(stored, start, end)
    have = sum(1 for s in range(start, end + 1) if s in stored)
    return {
        "symbol": "BTCUSDT",
        "start": start,
        "end": end,
        "expected_seconds": end - start + 1,
        "stored_seconds": have,
        "fraction": round(have / (end - start + 1), 6),
        "missing_seconds": end - start + 1 - have,
        "missing_range_count": len(ranges),
        "missing": [{"start": a, "end": b, "seconds": b - a + 1} for a, b in ranges[:limit]],
        "missing_truncated": len(ranges) > limit,
    }


@pytest.mark.parametrize("seed", range(40))
def test_merged_pieces_equal_the_whole(seed):
    rng = random.Random(seed)
    start, end = 1000, 1000 + rng.randint(0, 300)
    density = rng.random()
    stored = {s for s in range(start, end + 1) if rng.random() < density}
    size, limit = rng.randint(1, 40), rng.randint(1, 6)
    parts, last_missing = [], []
    for first, last in day_chunks(start, end, size):
        part = reply(stored, first, last, limit)
        known = ends_missing(part)
        parts.append(part)
        last_missing.append(known if known is not None else last not in stored)

    merged = merge(parts, last_missing)

    whole = missing_ranges(stored, start, end)
    assert (merged["start"], merged["end"]) == (start, end)
    assert merged["stored_seconds"] == len(stored)
    assert merged["missing_seconds"] == end - start + 1 - len(stored)
    assert merged["missing_range_count"] == len(whole)
    assert merged["fraction"] == round(len(stored) / (end - start + 1), 6)
    listed = [(r["start"], r["end"]) for r in merged["missing"]]
    assert listed == whole[: len(listed)]
    assert merged["missing_truncated"] == (len(listed) < len(whole))
    assert all(r["seconds"] == r["end"] - r["start"] + 1 for r in merged["missing"])


def test_chunks_cover_the_range_once():
    assert day_chunks(0, 9, 4) == [(0, 3), (4, 7), (8, 9)]
    assert day_chunks(5, 5, 4) == [(5, 5)]
