"""Validation of incoming messages: only well-formed, consistent, timely snapshots pass."""

from __future__ import annotations

import msgpack
import msgspec
import pytest

from shared.codec import encode, snap_topic
from shared.model import SecondTrades, Trade
from tests.support.seconds import Second
from writer import validate
from writer.validate import Limits, Rejected, validate_message, validate_record

NOW = 1_800_000_000.5
LIMITS = Limits(max_age=86_400, max_ahead=60)


def snapshot(symbol: str = "BTCUSDT", second: int = int(NOW), **changes: object) -> Second:
    fields: dict[str, object] = {
        "symbol": symbol,
        "second": second,
        "session": 7,
        "seq": 3,
        "update_id": 100,
        "ts_event": second * 1000,
        "ts_recv": second * 1000 + 5,
        "bids": ((6_000_000_000_000, 100_000_000), (5_999_000_000_000, 5)),
        "asks": ((6_000_100_000_000, 2), (6_001_000_000_000, 3)),
        "trades": (Trade(1, 6_000_000_000_000, 10, second * 1000 + 1, True),),
    }
    fields.update(changes)
    return Second(**fields)  # type: ignore[arg-type]


def frames(snap: Second, topic: bytes | None = None) -> list[bytes]:
    return [topic if topic is not None else snap_topic(snap.symbol), *snap.values()]


def test_a_valid_message_passes_with_its_trades():
    record = validate_message(frames(snapshot()), NOW, LIMITS, received=2.5)
    assert (record.symbol, record.second, record.session, record.seq) == ("BTCUSDT", int(NOW), 7, 3)
    assert (record.snapshot, record.trades) == snapshot().values()  # the bytes as received
    assert record.trade_fields.tolist() == [
        list(msgspec.structs.astuple(t)) for t in snapshot().trades
    ]
    assert (record.received, record.backfilled) == (2.5, False)


@pytest.mark.parametrize("count", [0, 1, 2, 4, 5])
def test_wrong_frame_count_is_rejected(count):
    message = (frames(snapshot()) * 3)[:count]
    with pytest.raises(Rejected) as err:
        validate_message(message, NOW, LIMITS, 0.0)
    assert err.value.reason == "frames"


@pytest.mark.parametrize("topic", [b"book.BTCUSDT", b"snap.", b"snap.btc$", b"x" * 100, b"snap.A"])
def test_bad_topic_is_rejected(topic):
    with pytest.raises(Rejected) as err:
        validate_message(frames(snapshot(), topic), NOW, LIMITS, 0.0)
    assert err.value.reason == "topic"


def test_topic_and_payload_symbol_must_match():
    with pytest.raises(Rejected) as err:
        validate_message(frames(snapshot("ETHUSDT"), b"snap.BTCUSDT"), NOW, LIMITS, 0.0)
    assert err.value.reason == "symbol"


@pytest.mark.parametrize(
    "trades",
    [SecondTrades("BTCUSDT", int(NOW) - 1, ()), SecondTrades("ETHUSDT", int(NOW), ())],
)
def test_book_and_trades_must_be_of_the_same_symbol_second(trades):
    book, _ = snapshot().values()
    with pytest.raises(Rejected) as err:
        validate_message([b"snap.BTCUSDT", book, encode(trades)], NOW, LIMITS, 0.0)
    assert err.value.reason == "symbol"


def test_crossed_book_is_rejected():
    crossed = snapshot(bids=((7_000_000_000_000, 1),), asks=((6_000_000_000_000, 1),))
    with pytest.raises(Rejected, match="crossed") as err:
        validate_message(frames(crossed), NOW, LIMITS, 0.0)
    assert err.value.reason == "decode"


def test_unsorted_levels_are_rejected():
    unsorted = snapshot(bids=((5_000, 1), (6_000, 1)))
    with pytest.raises(Rejected, match="sorted"):
        validate_message(frames(unsorted), NOW, LIMITS, 0.0)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\xc1",
        msgpack.packb([1, 2, 3]),
        msgpack.packb({"v": 1, "sym": "BTCUSDT", "sec": "now"}),
        msgpack.packb({"v": 2}),
    ],
)
def test_garbage_payloads_are_rejected(payload):
    book, trades = snapshot().values()
    for message in ([b"snap.BTCUSDT", payload, trades], [b"snap.BTCUSDT", book, payload]):
        with pytest.raises(Rejected) as err:
            validate_message(message, NOW, LIMITS, 0.0)
        assert err.value.reason == "decode"


def test_a_huge_payload_is_rejected_before_decoding():
    _, trades = snapshot().values()
    with pytest.raises(Rejected) as err:
        validate_record(b"\x00" * (5 * 1024 * 1024), trades, NOW, LIMITS, 0.0)
    assert err.value.reason == "size"


@pytest.mark.parametrize("offset", [-86_401, 61, 10**9])
def test_seconds_far_from_now_are_rejected(offset):
    with pytest.raises(Rejected) as err:
        validate_message(frames(snapshot(second=int(NOW) + offset)), NOW, LIMITS, 0.0)
    assert err.value.reason == "timestamp"


@pytest.mark.parametrize("offset", [-86_000, -900, 0, 59])
def test_seconds_within_bounds_pass(offset):
    assert validate_message(frames(snapshot(second=int(NOW) + offset)), NOW, LIMITS, 0.0)


def test_an_empty_trade_list_is_still_stored():
    record = validate_message(frames(snapshot(trades=())), NOW, LIMITS, 0.0)
    assert record.trades == encode(SecondTrades("BTCUSDT", int(NOW), ()))
    assert record.trade_fields.shape == (0, 5)


def test_topics_are_parsed_once_and_the_memory_of_them_is_bounded(monkeypatch):
    monkeypatch.setattr(validate, "_TOPICS", {})
    monkeypatch.setattr(validate, "MAX_TOPICS", 2)
    for symbol in ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BTCUSDT"):
        record = validate_message(frames(snapshot(symbol)), NOW, LIMITS, received=0.0)
        assert record.symbol == symbol
    assert validate._TOPICS == {b"snap.BTCUSDT": "BTCUSDT", b"snap.ETHUSDT": "ETHUSDT"}
    # A remembered topic still has to agree with the payload it carries.
    with pytest.raises(Rejected) as rejected:
        validate_message(frames(snapshot("ETHUSDT"), b"snap.BTCUSDT"), NOW, LIMITS, received=0.0)
    assert rejected.value.reason == "symbol"
