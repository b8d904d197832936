"""The live self-check: sampling windows, and the comparison of the book with bookTicker
whenever the book's update id equals the ticker's ``u`` (before or after its batch)."""

from __future__ import annotations

import json

from collector.selfcheck import SelfCheck
from collector.sync import BookSync
from collector.wire import BookTicker, DepthSnapshot, DepthUpdate, parse_frame

P = 100_000_000


def synced_book() -> BookSync:
    sync = BookSync()
    sync.on_event(DepthUpdate(1, "BTCUSDT", 11, 12, [], []))
    sync.on_snapshot(DepthSnapshot(10, [(99 * P, 2 * P)], [(101 * P, 3 * P)]))
    assert sync.synced
    return sync


def ticker(u: int, bid_qty: int = 2 * P) -> BookTicker:
    return BookTicker(u=u, s="BTCUSDT", b=99 * P, B=bid_qty, a=101 * P, A=3 * P)


def test_a_bookticker_frame_parses_to_exact_ints():
    text = json.dumps(
        {
            "stream": "btcusdt@bookTicker",
            "data": {
                "u": 400900217,
                "s": "BTCUSDT",
                "b": "0.00001234",
                "B": "31.21000000",
                "a": "0.00001235",
                "A": "40.66000000",
            },
        }
    )
    assert parse_frame(text) == BookTicker(400900217, "BTCUSDT", 1234, 3121000000, 1235, 4066000000)


def test_a_ticker_of_the_current_id_is_checked_at_once_and_a_later_one_when_the_book_gets_there():
    sync, check = synced_book(), SelfCheck(600, 10)

    assert check.on_ticker(ticker(12), sync) is None  # the book stands at 12: equal
    assert check.on_ticker(ticker(11), sync) is None  # passed: nothing to compare
    assert check.on_ticker(ticker(14), sync) is None  # inside the next batch: never compared
    assert check.on_ticker(ticker(15, bid_qty=5 * P), sync) is None  # waits for the book
    sync.on_event(DepthUpdate(2, "BTCUSDT", 13, 15, [(99 * P, 5 * P)], []))
    assert check.on_book(sync) is None

    assert check.checks == 2
    assert check.mismatches == 0
    assert not check.waiting


def test_a_differing_ticker_is_a_mismatch():
    sync, check = synced_book(), SelfCheck(600, 10)

    mismatch = check.on_ticker(ticker(12, bid_qty=2 * P + 1), sync)

    assert mismatch is not None
    assert "u=12" in mismatch
    assert check.mismatches == 1


def test_windows_open_once_synced_then_every_period():
    check = SelfCheck(every=600, window=10)

    assert check.action(0.0, synced=False) is None
    assert check.action(5.0, synced=True) == "subscribe"
    assert check.action(14.0, synced=True) is None
    assert check.action(15.0, synced=True) == "unsubscribe"
    assert check.action(600.0, synced=True) is None
    assert check.action(605.0, synced=True) == "subscribe"
    check.connection_changed()  # a new connection has no subscription
    assert not check.active
    assert SelfCheck(every=0, window=10).action(5.0, synced=True) is None
