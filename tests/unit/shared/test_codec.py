from __future__ import annotations

import contextlib

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.codec import (
    MAX_PAYLOAD,
    book_topic,
    decode_book,
    decode_live,
    decode_second,
    decode_trades,
    encode,
    encode_second,
    parse_key,
    record_key,
    snap_topic,
    symbol_of_topic,
)
from shared.errors import DecodeError
from shared.fixedpoint import MAX_INT64, parse_fixed
from shared.model import BookSnapshot, LiveBook, SecondTrades, Trade

TRADES = (Trade(3_735_683_259, parse_fixed("61837.63"), parse_fixed("0.02"), 1, True),)


def make_snapshot(**overrides: object) -> BookSnapshot:
    fields: dict[str, object] = {
        "symbol": "BTCUSDT",
        "second": 1_723_161_255,
        "session": 1_723_161_250_000_000_000,
        "seq": 7,
        "update_id": 50_093_239_218,
        "ts_event": 1_723_161_255_208,
        "ts_recv": 1_723_161_255_300,
        "bids": ((parse_fixed("61837.63"), parse_fixed("3.78826")), (parse_fixed("61837.62"), 1)),
        "asks": ((parse_fixed("61837.64"), parse_fixed("1.54698")), (MAX_INT64, MAX_INT64)),
    }
    fields.update(overrides)
    return BookSnapshot(**fields)  # type: ignore[arg-type]


def test_snapshot_round_trips_exactly() -> None:
    snap = make_snapshot()
    assert decode_book(encode(snap)) == snap


def test_records_use_the_documented_wire_names() -> None:
    # docs/storage.md documents these keys; readers without booksnap depend on them.
    book = msgpack.unpackb(encode(make_snapshot()))
    assert list(book) == ["sym", "sec", "ses", "seq", "uid", "E", "recv", "b", "a", "v"]
    assert book["b"][0] == [parse_fixed("61837.63"), parse_fixed("3.78826")]
    trades = msgpack.unpackb(encode(SecondTrades("BTCUSDT", 10, TRADES)))
    assert trades == {
        "sym": "BTCUSDT",
        "sec": 10,
        "tr": [[3_735_683_259, parse_fixed("61837.63"), parse_fixed("0.02"), 1, True]],
        "v": 1,
    }


def test_records_written_by_the_first_version_still_decode() -> None:
    # booksnap 0.1 wrote dict literals with "v" first: the key order is not part of the schema.
    old = {"v": 1, "sym": "BTCUSDT", "sec": 5, "ses": 1, "seq": 1, "uid": 9, "E": 1, "recv": 2}
    book = decode_book(msgpack.packb({**old, "b": [[2, 1]], "a": [[3, 1]]}))
    assert (book.second, book.bids, book.asks) == (5, ((2, 1),), ((3, 1),))


def test_live_book_round_trips() -> None:
    book = LiveBook("ETHUSDT", 1, 2, 3, 4, 5, ((200, 1),), ((300, 1),))
    assert decode_live(encode(book)) == book


def test_trades_round_trip() -> None:
    trades = SecondTrades("BTCUSDT", 10, (Trade(1, 2, 3, 4, False), Trade(2, 2, 5, 4, True)))
    assert decode_trades(encode(trades)) == trades
    assert trades.trades[0].taker_side == "buy"


def test_a_second_travels_as_topic_book_trades() -> None:
    book, trades = make_snapshot(), SecondTrades("BTCUSDT", 1_723_161_255, TRADES)
    frames = encode_second(book, trades)
    assert frames == [b"snap.BTCUSDT", encode(book), encode(trades)]
    assert decode_second(frames) == (book, trades)


@pytest.mark.parametrize(
    ("frames", "reason"),
    [
        (lambda b, t: [b"snap.BTCUSDT", b], "3 frames"),
        (lambda b, t: [b"snap.BTCUSDT", b, t, t], "3 frames"),
        (lambda b, t: [b"snap.ETHUSDT", b, t], "topic ETHUSDT"),
        (lambda b, t: [b"book.BTCUSDT", b, t], "not a snap"),
        (lambda b, t: [b"snap.BTCUSDT", t, b], "invalid book record"),
        (
            lambda b, t: [b"snap.BTCUSDT", b, encode(SecondTrades("BTCUSDT", 9, ()))],
            "with trades of BTCUSDT 9",
        ),
        (
            lambda b, t: [b"snap.BTCUSDT", b, encode(SecondTrades("ETHUSDT", 1_723_161_255, ()))],
            "with trades of ETHUSDT",
        ),
    ],
)
def test_a_second_whose_frames_disagree_is_rejected(frames, reason: str) -> None:
    book, trades = encode(make_snapshot()), encode(SecondTrades("BTCUSDT", 1_723_161_255, TRADES))
    with pytest.raises(DecodeError, match=reason):
        decode_second(frames(book, trades))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"bids": ((100, 1), (200, 1))}, "bids not sorted"),
        ({"asks": ((300, 1), (300, 1))}, "asks not sorted"),
        ({"bids": ((500, 1),), "asks": ((500, 1),)}, "crossed"),
        ({"symbol": "btc/usdt"}, r"\$\.sym"),
        ({"symbol": "BTCUSDT\n"}, r"\$\.sym"),  # "$" would let a trailing newline through
        ({"bids": ((0, 1),)}, r"\$\.b\[0\]\[0\]"),
        ({"asks": ((2**63, 1),)}, r"\$\.a\[0\]\[0\]"),
        ({"seq": -1}, r">= 0 - at `\$\.seq`"),
        ({"bids": ((100, 1),) * 5001}, r"length <= 5000"),
    ],
)
def test_invalid_snapshots_are_rejected(overrides: dict[str, object], reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_book(encode(make_snapshot(**overrides)))


def test_unknown_fields_other_versions_and_oversize_payloads_are_rejected() -> None:
    record = msgpack.unpackb(encode(make_snapshot()))
    with pytest.raises(DecodeError, match="unknown field `tr`"):
        decode_book(msgpack.packb({**record, "tr": []}))
    with pytest.raises(DecodeError, match="Invalid enum value 2"):
        decode_book(msgpack.packb({**record, "v": 2}))
    with pytest.raises(DecodeError, match="exceeds"):
        decode_book(b"\x00" * (MAX_PAYLOAD + 1))


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\xc1",
        msgpack.packb([1, 2, 3]),
        msgpack.packb({"v": 2}),
        msgpack.packb({"v": 1, "sym": "BTCUSDT"}),
        msgpack.packb({1: 2}),
    ],
)
def test_garbage_is_a_decode_error(payload: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_book(payload)


@settings(max_examples=300)
@given(st.binary(max_size=512))
def test_random_bytes_never_escape_as_other_errors(payload: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_book(payload)


def test_keys_sort_in_time_order_and_parse_back() -> None:
    keys = [record_key("BTCUSDT", s) for s in (999_999_999, 1_000_000_000, 1_723_161_255)]
    assert keys == sorted(keys)
    assert keys[2] == b"BTCUSDT:1723161255"
    assert parse_key(keys[0]) == ("BTCUSDT", 999_999_999)
    with pytest.raises(DecodeError):
        parse_key(b"BTCUSDT:12")


def test_topics_name_their_symbol() -> None:
    assert snap_topic("BTCUSDT") == b"snap.BTCUSDT"
    assert symbol_of_topic(book_topic("ETHUSDT")) == "ETHUSDT"
    with pytest.raises(DecodeError):
        symbol_of_topic(b"other.BTCUSDT")
