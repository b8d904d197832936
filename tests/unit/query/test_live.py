from __future__ import annotations

import pytest

from query.live import LiveBooks
from shared.codec import book_topic, encode
from shared.model import LiveBook
from tests.support.clock import FakeClock
from tests.support.seconds import Second

BOOK = LiveBook("BTCUSDT", 1, 1, 10, 1000, 1001, ((200, 5),), ((300, 5),))


def snapshot(seq: int, session: int = 1, second: int | None = None) -> Second:
    second = 100 + seq if second is None else second
    return Second("BTCUSDT", second, session, seq, 10, 1000, 1001, ((200, 5),), ((300, 5),))


def test_valid_book_becomes_the_latest_book():
    books = LiveBooks(FakeClock(50.0))

    assert books.accept([book_topic("BTCUSDT"), encode(BOOK)])
    assert books.book("BTCUSDT") == (BOOK, 50.0)
    assert books.book("ETHUSDT") is None


@pytest.mark.parametrize(
    "frames",
    [
        [b"book.BTCUSDT"],
        [b"book.BTCUSDT", encode(BOOK), b"extra"],
        [b"trade.BTCUSDT", encode(BOOK)],
        [b"book.ETHUSDT", encode(BOOK)],  # topic and payload disagree
        [b"book.BTCUSDT", b"\x93garbage"],
        [
            b"book.BTCUSDT",
            encode(LiveBook("BTCUSDT", 1, 1, 1, 1, 1, ((300, 1),), ((200, 1),))),
        ],
        [b"snap.BTCUSDT", encode(BOOK)],
    ],
)
def test_invalid_messages_are_counted_and_dropped(frames):
    books = LiveBooks(FakeClock(50.0))

    assert not books.accept(frames)
    assert books.invalid == 1
    assert books.book("BTCUSDT") is None


def test_snapshot_sequence_gaps_and_collector_restarts_are_counted():
    books = LiveBooks(FakeClock(50.0))
    for seq in (1, 2, 5):
        books.accept((snapshot(seq)).frames())
    books.accept((snapshot(1, session=2)).frames())

    summary = books.summary()["BTCUSDT"]
    assert summary["snapshot_seq_gaps"] == 2
    assert summary["sessions_seen"] == 2
    assert summary["last_published_second"] == 101
    assert summary["publishing"] is True


def test_seconds_skipped_with_consecutive_seq_count_as_a_resync():
    books = LiveBooks(FakeClock(50.0))
    for seq, second in ((1, 100), (2, 101), (3, 105), (4, 106)):
        books.accept((snapshot(seq, second=second)).frames())

    summary = books.summary()["BTCUSDT"]
    assert (summary["resyncs"], summary["skipped_seconds"], summary["snapshot_seq_gaps"]) == (
        1,
        3,
        0,
    )
