"""Validation of incoming messages: only well-formed, consistent, timely snapshots pass."""

from __future__ import annotations

import msgpack
import pytest

from shared.codec import decode_snapshot, decode_trades, encode_snapshot, snap_topic
from shared.model import BookSnapshot, Trade
from writer.validate import Limits, Rejected, to_record, validate_message, validate_payload

NOW = 1_800_000_000.5
LIMITS = Limits(max_age=86_400, max_ahead=60)


def snapshot(symbol: str = "BTCUSDT", second: int = int(NOW), **changes: object) -> BookSnapshot:
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
    return BookSnapshot(**fields)  # type: ignore[arg-type]


def frames(snap: BookSnapshot, topic: bytes | None = None) -> list[bytes]:
    return [topic if topic is not None else snap_topic(snap.symbol), encode_snapshot(snap)]


def test_a_valid_message_passes_with_its_trades():
    snap = validate_message(frames(snapshot()), NOW, LIMITS)
    assert snap == snapshot()


@pytest.mark.parametrize("count", [0, 1, 3, 5])
def test_wrong_frame_count_is_rejected(count):
    message = (frames(snapshot()) * 3)[:count]
    with pytest.raises(Rejected) as err:
        validate_message(message, NOW, LIMITS)
    assert err.value.reason == "frames"


@pytest.mark.parametrize("topic", [b"book.BTCUSDT", b"snap.", b"snap.btc$", b"x" * 100, b"snap.A"])
def test_bad_topic_is_rejected(topic):
    with pytest.raises(Rejected) as err:
        validate_message(frames(snapshot(), topic), NOW, LIMITS)
    assert err.value.reason == "topic"


def test_topic_and_payload_symbol_must_match():
    with pytest.raises(Rejected) as err:
        validate_message(frames(snapshot("ETHUSDT"), b"snap.BTCUSDT"), NOW, LIMITS)
    assert err.value.reason == "symbol"


def test_crossed_book_is_rejected():
    crossed = snapshot(bids=((7_000_000_000_000, 1),), asks=((6_000_000_000_000, 1),))
    with pytest.raises(Rejected, match="crossed") as err:
        validate_message(frames(crossed), NOW, LIMITS)
    assert err.value.reason == "decode"


def test_unsorted_levels_are_rejected():
    unsorted = snapshot(bids=((5_000, 1), (6_000, 1)))
    with pytest.raises(Rejected, match="sorted"):
        validate_message(frames(unsorted), NOW, LIMITS)


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
    with pytest.raises(Rejected) as err:
        validate_message([b"snap.BTCUSDT", payload], NOW, LIMITS)
    assert err.value.reason == "decode"


def test_a_huge_payload_is_rejected_before_decoding():
    with pytest.raises(Rejected) as err:
        validate_payload(b"\x00" * (5 * 1024 * 1024), NOW, LIMITS)
    assert err.value.reason == "size"


@pytest.mark.parametrize("offset", [-86_401, 61, 10**9])
def test_seconds_far_from_now_are_rejected(offset):
    with pytest.raises(Rejected) as err:
        validate_message(frames(snapshot(second=int(NOW) + offset)), NOW, LIMITS)
    assert err.value.reason == "timestamp"


@pytest.mark.parametrize("offset", [-86_000, -900, 0, 59])
def test_seconds_within_bounds_pass(offset):
    assert validate_message(frames(snapshot(second=int(NOW) + offset)), NOW, LIMITS)


def test_record_holds_the_two_stored_values():
    record = to_record(snapshot(), received=1.0)
    assert decode_snapshot(record.snapshot) == snapshot(trades=())
    assert decode_trades(record.trades) == ("BTCUSDT", int(NOW), snapshot().trades)


def test_an_empty_trade_list_is_still_stored():
    record = to_record(snapshot(trades=()), received=1.0)
    assert decode_trades(record.trades) == ("BTCUSDT", int(NOW), ())
