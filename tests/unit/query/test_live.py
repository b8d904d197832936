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
    books = LiveBooks(FakeClock(50.0), ("BTCUSDT", "ETHUSDT"))

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
    books = LiveBooks(FakeClock(50.0), ("BTCUSDT", "ETHUSDT"))

    assert not books.accept(frames)
    assert books.invalid == 1
    assert books.book("BTCUSDT") is None


def test_snapshot_sequence_gaps_and_collector_restarts_are_counted():
    books = LiveBooks(FakeClock(50.0), ("BTCUSDT", "ETHUSDT"))
    for seq in (1, 2, 5):
        assert books.accept(snapshot(seq).frames())
    assert books.accept(snapshot(1, session=2, second=106).frames())  # a restart: later seconds

    summary = books.summary()["BTCUSDT"]
    assert summary["snapshot_seq_gaps"] == 2
    assert summary["sessions_seen"] == 2
    assert summary["last_published_second"] == 106
    assert summary["publishing"] is True


def test_seconds_skipped_with_consecutive_seq_count_as_a_resync():
    books = LiveBooks(FakeClock(50.0), ("BTCUSDT", "ETHUSDT"))
    for seq, second in ((1, 100), (2, 101), (3, 105), (4, 106)):
        books.accept(snapshot(seq, second=second).frames())

    summary = books.summary()["BTCUSDT"]
    assert (summary["resyncs"], summary["skipped_seconds"], summary["snapshot_seq_gaps"]) == (
        1,
        3,
        0,
    )


def test_unconfigured_symbols_and_foreign_sessions_are_neither_kept_nor_served():
    books = LiveBooks(FakeClock(50.0), ("BTCUSDT",))
    assert books.accept([book_topic("BTCUSDT"), encode(BOOK)])
    eth = LiveBook("ETHUSDT", 1, 1, 10, 1000, 1001, ((200, 5),), ((300, 5),))
    forged = LiveBook("BTCUSDT", 99, 1, 11, 1000, 1001, ((1, 5),), ((2, 5),))  # same E, new session
    assert not books.accept([book_topic("ETHUSDT"), encode(eth)])
    assert not books.accept([book_topic("BTCUSDT"), encode(forged)])
    assert books.book("ETHUSDT") is None
    held = books.book("BTCUSDT")
    assert held is not None
    assert held[0] == BOOK
    assert books.invalid == 2


def test_live_books_from_the_future_or_older_than_the_one_held_are_dropped():
    books = LiveBooks(FakeClock(50.0), ("BTCUSDT",))
    assert books.accept([book_topic("BTCUSDT"), encode(BOOK)])  # E = 1000 ms
    older = LiveBook("BTCUSDT", 1, 2, 9, 999, 1001, ((200, 5),), ((300, 5),))
    future = LiveBook("BTCUSDT", 1, 3, 12, 50_000 + 61_000, 1001, ((200, 5),), ((300, 5),))
    assert not books.accept([book_topic("BTCUSDT"), encode(older)])
    assert not books.accept([book_topic("BTCUSDT"), encode(future)])
    held = books.book("BTCUSDT")
    assert held is not None
    assert held[0] == BOOK
