"""The bounded pending queue: FIFO, de-duplicating, drops the oldest when full."""

from __future__ import annotations

import pytest

from writer.pending import PendingQueue, Record


def record(second: int, symbol: str = "BTCUSDT", payload: bytes = b"x") -> Record:
    return Record(symbol, second, payload, b"t", 1, second, received=float(second))


def test_capacity_must_be_positive():
    with pytest.raises(ValueError, match="capacity"):
        PendingQueue(0)


def test_fifo_peek_and_remove():
    queue = PendingQueue(10)
    for second in range(5):
        queue.add(record(second))
    batch = queue.peek(3)
    assert [r.second for r in batch] == [0, 1, 2]
    assert len(queue) == 5  # peek leaves them until the write is confirmed
    queue.remove(batch)
    assert [r.second for r in queue.peek(10)] == [3, 4]
    assert queue.oldest_arrival() == 3.0


def test_full_queue_drops_the_oldest_and_counts_it():
    queue = PendingQueue(3)
    dropped = [queue.add(record(second)) for second in range(5)]
    assert [d.second if d else None for d in dropped] == [None, None, None, 0, 1]
    assert len(queue) == 3
    assert queue.dropped == 2
    assert [r.second for r in queue.peek(10)] == [2, 3, 4]


def test_the_same_second_twice_is_kept_once_with_the_newer_bytes():
    queue = PendingQueue(3)
    queue.add(record(1, payload=b"old"))
    queue.add(record(2))
    assert queue.add(record(1, payload=b"new")) is None
    assert [(r.second, r.snapshot) for r in queue.peek(10)] == [(1, b"new"), (2, b"x")]


def test_a_replaced_record_is_not_removed_by_the_write_of_its_old_copy():
    queue = PendingQueue(3)
    queue.add(record(1, payload=b"old"))
    batch = queue.peek(1)
    queue.add(record(1, payload=b"new"))
    queue.remove(batch)
    assert [r.snapshot for r in queue.peek(10)] == [b"new"]


def test_an_empty_queue_has_no_oldest_arrival():
    assert PendingQueue(1).oldest_arrival() is None


def test_symbols_do_not_collide():
    queue = PendingQueue(10)
    queue.add(record(1, "BTCUSDT"))
    queue.add(record(1, "ETHUSDT"))
    assert len(queue) == 2
