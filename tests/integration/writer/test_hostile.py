"""Hostile ZeroMQ traffic (hypothesis): rejected and counted, never stored, never a crash."""

from __future__ import annotations

import time

import msgpack
import zmq
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from shared import backfill as proto
from shared.codec import decode_book, decode_trades, snap_topic
from shared.errors import DecodeError
from tests.integration.writer.harness import read_status, series, stored
from tests.support.waiting import poll_for

NOW = int(time.time())
GOOD = series("BTCUSDT", NOW - 50, 1)[0]
BOOK_FIELDS = ["v", "sym", "sec", "ses", "seq", "uid", "E", "recv", "b", "a"]
TRADES_FIELDS = ["v", "sym", "sec", "tr"]
GOOD_BOOK, GOOD_TRADES = GOOD.values()

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.binary(max_size=30),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


def _good_record() -> dict:
    return msgpack.unpackb(GOOD_BOOK)


def _message(book: dict, trades: bytes = GOOD_TRADES, topic: bytes = b"snap.BTCUSDT") -> list:
    return [topic, msgpack.packb(book), trades]


@st.composite
def wrong_types(draw) -> list[bytes]:
    """A real second with some fields of its book or its trades replaced by random values."""
    if draw(st.booleans()):
        record = _good_record()
        for name in draw(
            st.lists(st.sampled_from(BOOK_FIELDS), min_size=1, max_size=4, unique=True)
        ):
            record[name] = draw(values)
        payload = msgpack.packb(record)
        assume(not _decodes(decode_book, payload))  # e.g. another valid "ses" is still valid
        return [b"snap.BTCUSDT", payload, GOOD_TRADES]
    trades = msgpack.unpackb(GOOD_TRADES)
    for name in draw(st.lists(st.sampled_from(TRADES_FIELDS), min_size=1, max_size=2, unique=True)):
        trades[name] = draw(values)
    payload = msgpack.packb(trades)
    assume(not _decodes(decode_trades, payload))
    return [b"snap.BTCUSDT", GOOD_BOOK, payload]


def _decodes(decode, payload: bytes) -> bool:
    try:
        decode(payload)
    except DecodeError:
        return False
    return True


@st.composite
def crossed_or_unsorted(draw) -> list[bytes]:
    record = _good_record()
    price = draw(st.integers(min_value=1, max_value=10**15))
    if draw(st.booleans()):
        record["b"], record["a"] = [[price + draw(st.integers(0, 10**6)), 1]], [[price, 1]]
    else:
        record["b"] = [[price, 1], [price + draw(st.integers(0, 10**6)), 1]]
    return _message(record)


@st.composite
def wrong_symbols(draw) -> list[bytes]:
    record = _good_record()
    topic_symbol, payload_symbol = draw(
        st.sampled_from(
            [
                ("BTCUSDT", "ETHUSDT"),
                ("btcusdt", "btcusdt"),
                ("BTC-USD", "BTC-USD"),
                ("BTCUSDT", "B"),
                ("A" * 21, "A" * 21),
                ("BTCUSDT", ""),
            ]
        )
    )
    record["sym"] = payload_symbol
    return _message(record, topic=b"snap." + topic_symbol.encode())


@st.composite
def bad_seconds(draw) -> list[bytes]:
    record = _good_record()
    second = draw(st.one_of(st.integers(0, NOW - 90_000), st.integers(NOW + 3600, 2**40)))
    record["sec"] = second
    trades = msgpack.unpackb(GOOD_TRADES)
    trades["sec"] = second
    return _message(record, msgpack.packb(trades))


frames = st.lists(st.binary(max_size=200), max_size=5)
messages = st.one_of(
    frames.map(lambda f: [b"snap.BTCUSDT", *f] if len(f) != 2 else [b"snap.X", *f]),
    st.binary(max_size=300).map(lambda p: [b"snap.BTCUSDT", p, GOOD_TRADES]),
    st.binary(max_size=300).map(lambda p: [b"snap.BTCUSDT", GOOD_BOOK, p]),
    st.sampled_from([1, 3, 4]).map(
        lambda n: [snap_topic("BTCUSDT"), *([GOOD_BOOK, GOOD_TRADES] * 2)[:n]]
    ),
    st.just([snap_topic("BTCUSDT"), GOOD_TRADES, GOOD_BOOK]),  # frames swapped
    # 20,000 frames, of which 4 are kept (built by a map: a strategy's repr must stay small)
    st.just(20_000).map(lambda n: [snap_topic("BTCUSDT"), GOOD_BOOK, GOOD_TRADES, *[b""] * n]),
    wrong_types(),
    crossed_or_unsorted(),
    wrong_symbols(),
    bad_seconds(),
)
backfill_messages = st.one_of(
    st.lists(st.binary(max_size=100), min_size=1, max_size=4),
    st.tuples(
        st.sampled_from([proto.HELLO, proto.DONE, proto.RECORD, b"fetch", b"??"]),
        st.binary(max_size=200),
    ).map(list),
    st.just([proto.RECORD, GOOD_BOOK, GOOD_TRADES]),  # valid, but nobody asked for it
    # 20,000 frames, of which 5 are kept (built by a map: a strategy's repr must stay small)
    st.just(20_000).map(lambda n: [proto.RECORD, GOOD_BOOK, GOOD_TRADES, *[b""] * n]),
)


def test_hostile_messages_are_rejected_and_nothing_reaches_disk(writer, zmq_context, tmp_path):
    writer.start()
    pub = zmq_context.socket(zmq.PUB)
    pub.setsockopt(zmq.SNDHWM, 0)
    pub.connect(writer.ingest)
    dealer = zmq_context.socket(zmq.DEALER)
    dealer.setsockopt(zmq.ROUTING_ID, b"BTCUSDT")
    dealer.connect(writer.backfill)
    sentinel = series("ETHUSDT", NOW - 40, 1)[0]
    # Wait until the SUB connection carries messages (the slow joiner): a valid record of
    # another symbol, re-sent until stored.
    poll_for(
        lambda: (
            pub.send_multipart(sentinel.frames()) or sentinel.second in writer.logged("ETHUSDT")
        ),
        20,
        interval=0.2,
    )
    sent = {"n": 0}

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(messages, min_size=1, max_size=5), st.lists(backfill_messages, max_size=2))
    def send(batch, backfill_batch):
        for message in batch:
            pub.send_multipart(message)
        for message in backfill_batch:
            dealer.send_multipart(message)
        sent["n"] += len(batch)

    send()
    pub.send_multipart([b"snap.BTCUSDT", b"\x00" * (5 * 1024 * 1024), GOOD_TRADES])  # oversize

    status = poll_for(
        lambda: (
            (s := read_status(writer.data_dir, tmp_path / "sec"))
            and sum(s["rejected"].values()) >= sent["n"]
            and s
        ),
        30,
        what="every hostile message counted as rejected",
    )
    assert writer.proc.alive()
    assert {"frames", "decode", "topic"} <= set(status["rejected"])
    assert "Rejected a message" in writer.log()
    assert writer.log().count("Rejected a message") < 50  # aggregated, not a line per message
    pub.close(0)
    dealer.close(0)
    assert writer.proc.stop(10) == 0
    assert stored(writer.data_dir, "BTCUSDT") == {}
    assert set(stored(writer.data_dir, "ETHUSDT")) == {sentinel.second}
