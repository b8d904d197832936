"""RecordCache: reuse on identical bytes only, weighted LRU eviction, errors never cached."""

from __future__ import annotations

import pytest

from query.record_cache import RecordCache


class Decoded:
    def __init__(self, value: bytes) -> None:
        if value.startswith(b"bad"):
            raise ValueError("undecodable")
        self.value = value


def make(max_weight: int = 1_000) -> tuple[RecordCache[Decoded], list[bytes]]:
    decoded: list[bytes] = []

    def decode(value: bytes) -> Decoded:
        decoded.append(value)
        return Decoded(value)

    return RecordCache(decode, lambda value, _: len(value), max_weight), decoded


def test_equal_bytes_are_decoded_once_and_changed_bytes_afresh():
    cache, decoded = make()
    first = cache.get(("BTCUSDT", 1), b"book one")
    assert (
        cache.get(("BTCUSDT", 1), bytes(bytearray(b"book one"))) is first
    )  # equal, another object
    changed = cache.get(("BTCUSDT", 1), b"book two")  # rewritten by backfill: never stale
    assert changed.value == b"book two"
    assert decoded == [b"book one", b"book two"]
    assert (cache.hits, cache.misses, len(cache), cache.weight) == (1, 2, 1, 9)


def test_least_recently_used_entries_go_beyond_the_weight():
    cache, decoded = make(max_weight=20)
    cache.get("a", b"123456789")  # weight 10 each (length + 1)
    cache.get("b", b"123456789")
    cache.get("a", b"123456789")  # a is now the most recent
    cache.get("c", b"123456789")  # evicts b
    assert len(cache) == 2
    assert cache.weight == 20
    cache.get("b", b"123456789")
    assert decoded.count(b"123456789") == 4  # a, b, c, b again
    cache.get("c", b"123456789")
    assert cache.hits == 2


def test_a_record_heavier_than_the_cache_is_returned_but_not_kept():
    cache, _ = make(max_weight=5)
    assert cache.get("big", b"0123456789").value == b"0123456789"
    assert len(cache) == 0
    assert cache.weight == 0


def test_undecodable_bytes_raise_and_leave_nothing_behind():
    cache, _ = make()
    cache.get("k", b"good")
    with pytest.raises(ValueError, match="undecodable"):
        cache.get("k", b"bad bytes")
    assert len(cache) == 0
    assert cache.weight == 0
    cache.clear()
    assert cache.get("k", b"good").value == b"good"
