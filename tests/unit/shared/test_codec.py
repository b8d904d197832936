from __future__ import annotations

import contextlib

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.codec import (
    book_topic,
    decode_live,
    decode_snapshot,
    decode_trades,
    encode_live,
    encode_snapshot,
    encode_trades,
    parse_key,
    snap_topic,
    snapshot_key,
    symbol_of_topic,
)
from shared.errors import DecodeError
from shared.fixedpoint import MAX_FIXED, parse_fixed
from shared.model import BookSnapshot, LiveBook, Trade


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
        "asks": ((parse_fixed("61837.64"), parse_fixed("1.54698")), (MAX_FIXED, MAX_FIXED)),
        "trades": (Trade(3_735_683_259, parse_fixed("61837.63"), parse_fixed("0.02"), 1, True),),
    }
    fields.update(overrides)
    return BookSnapshot(**fields)  # type: ignore[arg-type]


def test_snapshot_round_trips_exactly() -> None:
    snap = make_snapshot()
    assert decode_snapshot(encode_snapshot(snap)) == snap


def test_stored_form_drops_trades() -> None:
    snap = make_snapshot()
    assert decode_snapshot(encode_snapshot(snap, with_trades=False)).trades == ()


def test_live_book_round_trips() -> None:
    book = LiveBook("ETHUSDT", 1, 2, 3, 4, 5, ((200, 1),), ((300, 1),))
    assert decode_live(encode_live(book)) == book


def test_trades_round_trip() -> None:
    trades = (Trade(1, 2, 3, 4, False), Trade(2, 2, 5, 4, True))
    assert decode_trades(encode_trades("BTCUSDT", 10, trades)) == ("BTCUSDT", 10, trades)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"bids": ((100, 1), (200, 1))}, "not sorted"),
        ({"asks": ((300, 1), (300, 1))}, "not sorted"),
        ({"bids": ((500, 1),), "asks": ((500, 1),)}, "crossed"),
        ({"symbol": "btc/usdt"}, "invalid symbol"),
        ({"bids": ((0, 1),)}, "out-of-range"),
        ({"asks": ((2**63, 1),)}, "out-of-range"),
        ({"seq": -1}, "unsigned"),
    ],
)
def test_invalid_snapshots_are_rejected(overrides: dict[str, object], reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_snapshot(encode_snapshot(make_snapshot(**overrides)))


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
        decode_snapshot(payload)


@settings(max_examples=300)
@given(st.binary(max_size=512))
def test_random_bytes_never_escape_as_other_errors(payload: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_snapshot(payload)


def test_keys_sort_in_time_order_and_parse_back() -> None:
    keys = [snapshot_key("BTCUSDT", s) for s in (999_999_999, 1_000_000_000, 1_723_161_255)]
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
