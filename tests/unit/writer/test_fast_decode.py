"""The writer's fast validation path accepts exactly what ``decode_snapshot`` accepts and stores
exactly the bytes the slow path would (hypothesis over mutated real records)."""

from __future__ import annotations

import copy
import time

import msgpack
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.codec import decode_snapshot, encode_snapshot, encode_trades
from shared.errors import DecodeError
from shared.fastcodec import StorableSnapshot, _typed, decode_snapshot_for_store
from shared.fixedpoint import MAX_FIXED
from shared.model import BookSnapshot
from tests.integration.writer.harness import series
from writer.validate import Limits, Rejected, storable_message, to_record, validate_message

NOW = int(time.time())
GOOD = series("BTCUSDT", NOW - 50, 30)
FIELDS = ["v", "sym", "sec", "ses", "seq", "uid", "E", "recv", "b", "a", "tr"]

ints = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.sampled_from([0, 1, -1, MAX_FIXED, MAX_FIXED + 1, 2**63, 2**64 - 1]),
)
scalars = st.one_of(st.none(), st.booleans(), ints, st.floats(allow_nan=False), st.text(max_size=6))
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)


def _outcome(payload: bytes) -> tuple[str, object]:
    try:
        snap = decode_snapshot(payload)
    except DecodeError:
        return "rejected", None
    return "accepted", snap


@st.composite
def mutated(draw) -> bytes:
    """A real record with fields replaced, levels/trades items or their elements changed."""
    record = msgpack.unpackb(encode_snapshot(draw(st.sampled_from(GOOD))))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["field", "drop", "item", "element", "swap"]))
        name = draw(st.sampled_from(FIELDS))
        if kind == "field":
            record[name] = draw(values)
        elif kind == "drop":
            record.pop(name, None)
        elif name in ("b", "a", "tr") and isinstance(record.get(name), list) and record[name]:
            items = record[name]
            i = draw(st.integers(0, len(items) - 1))
            if kind == "item":
                items[i] = draw(values)
            elif kind == "swap" and len(items) > 1:
                j = draw(st.integers(0, len(items) - 1))
                items[i], items[j] = items[j], items[i]
            elif isinstance(items[i], list) and items[i]:
                k = draw(st.integers(0, len(items[i]) - 1))
                items[i][k] = draw(st.one_of(ints, values))
    return msgpack.packb(record)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_fast_path_accepts_exactly_what_the_slow_path_accepts(payload):
    verdict, snap = _outcome(payload)
    if verdict == "rejected":
        with pytest.raises(DecodeError):
            decode_snapshot_for_store(payload)
        return
    fast = decode_snapshot_for_store(payload)
    assert fast.snapshot == encode_snapshot(snap, with_trades=False)
    assert fast.trades == encode_trades(snap.symbol, snap.second, snap.trades)
    assert fast.prices == tuple(t.price for t in snap.trades)
    assert fast.qtys == tuple(t.qty for t in snap.trades)
    assert fast.buyer_maker == tuple(t.buyer_maker for t in snap.trades)
    assert (fast.symbol, fast.second, fast.session, fast.seq) == (
        snap.symbol,
        snap.second,
        snap.session,
        snap.seq,
    )


def test_real_records_give_the_same_stored_values_on_both_paths():
    limits = Limits()
    for snap in GOOD:
        frames = [b"snap.BTCUSDT", encode_snapshot(snap)]
        record = to_record(validate_message(frames, NOW, limits), 0.0)
        fast = storable_message(frames, NOW, limits)
        assert (fast.snapshot, fast.trades) == (record.snapshot, record.trades)
        assert (fast.prices, fast.qtys, fast.buyer_maker) == (
            record.prices,
            record.qtys,
            record.buyer_maker,
        )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda r: r.update(sym="ETHUSDT"), "symbol"),
        (lambda r: r.update(sec=NOW + 3600), "timestamp"),
        (lambda r: r.update(b=r["a"], a=r["b"]), "decode"),
        (lambda r: r["tr"].append([1, 2, 3, 4, "x"]), "decode"),
    ],
)
def test_fast_path_rejects_with_the_same_reasons(change, reason):
    record = copy.deepcopy(msgpack.unpackb(encode_snapshot(GOOD[0])))
    change(record)
    frames = [b"snap.BTCUSDT", msgpack.packb(record)]
    with pytest.raises(Rejected) as slow:
        validate_message(frames, NOW, Limits())
    with pytest.raises(Rejected) as fast:
        storable_message(frames, NOW, Limits())
    assert fast.value.reason == slow.value.reason == reason
    assert str(fast.value) == str(slow.value)


def _typed_outcome(payload: bytes) -> StorableSnapshot | None:
    try:
        return _typed(payload)
    except (msgspec.ValidationError, msgspec.DecodeError, TypeError, ValueError):
        return None


def _assert_same_values(fast: StorableSnapshot, snap: BookSnapshot) -> None:
    assert fast.snapshot == encode_snapshot(snap, with_trades=False)
    assert fast.trades == encode_trades(snap.symbol, snap.second, snap.trades)
    assert (fast.prices, fast.qtys, fast.buyer_maker) == (
        tuple(t.price for t in snap.trades),
        tuple(t.qty for t in snap.trades),
        tuple(t.buyer_maker for t in snap.trades),
    )
    assert (fast.symbol, fast.second, fast.session, fast.seq) == (
        snap.symbol,
        snap.second,
        snap.session,
        snap.seq,
    )


@st.composite
def tampered(draw) -> bytes:
    """A mutated record, or a real one with bytes flipped, cut off or appended."""
    payload = (
        draw(mutated()) if draw(st.booleans()) else encode_snapshot(draw(st.sampled_from(GOOD)))
    )
    kind = draw(st.sampled_from(["none", "flip", "cut", "append"]))
    if kind == "flip" and payload:
        i = draw(st.integers(0, len(payload) - 1))
        payload = payload[:i] + bytes([draw(st.integers(0, 255))]) + payload[i + 1 :]
    elif kind == "cut":
        payload = payload[: draw(st.integers(0, len(payload)))]
    elif kind == "append":
        payload += draw(st.binary(min_size=1, max_size=4))
    return payload


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tampered())
def test_msgspec_tier_accepts_only_what_the_slow_path_accepts(payload):
    """The msgspec tier may refuse more (the other tiers then decide), never accept more."""
    verdict, snap = _outcome(payload)
    fast = _typed_outcome(payload)
    if fast is not None:
        assert verdict == "accepted"
        _assert_same_values(fast, snap)
    if verdict == "accepted":
        _assert_same_values(decode_snapshot_for_store(payload), snap)
    else:
        with pytest.raises(DecodeError):
            decode_snapshot_for_store(payload)


def _raw_map(pairs: list[tuple[bytes, bytes]]) -> bytes:
    """A msgpack map written by hand (duplicate keys, bin/ext values msgpack.packb won't emit)."""
    assert len(pairs) < 16
    return bytes([0x80 | len(pairs)]) + b"".join(key + value for key, value in pairs)


def _good_pairs() -> list[tuple[bytes, bytes]]:
    record = msgpack.unpackb(encode_snapshot(GOOD[0]))
    return [(msgpack.packb(k), msgpack.packb(v)) for k, v in record.items()]


@pytest.mark.parametrize(
    ("change", "accepted"),
    [
        (lambda p: [*p, (msgpack.packb("x"), b"\xc4\x01z")], False),  # bin in an unknown field
        (lambda p: [*p, (msgpack.packb("x"), b"\xd4\x01\x00")], False),  # ext in an unknown field
        (lambda p: [*p, (msgpack.packb("x"), b"\x81\x01\x01")], False),  # int map key, nested
        (lambda p: [*p, (msgpack.packb("x"), b"\xa2\xff\xfe")], False),  # invalid UTF-8
        (lambda p: [*p, (msgpack.packb("x"), msgpack.packb([1, "a"]))], True),  # unknown, valid
        (lambda p: [*p, (msgpack.packb("sec"), msgpack.packb("late"))], False),  # duplicate, bad
        (lambda p: [(msgpack.packb("sec"), msgpack.packb("x")), *p], True),  # duplicate, good last
        (lambda p: [(msgpack.packb("v"), b"\xc3"), *p[1:]], True),  # "v": true == 1
        (lambda p: [(msgpack.packb("v"), msgpack.packb(1.0)), *p[1:]], True),  # "v": 1.0 == 1
        (lambda p: [(msgpack.packb("v"), msgpack.packb(2)), *p[1:]], False),
        (lambda p: [pair for pair in p if pair[0] != msgpack.packb("tr")], True),  # no trades
    ],
)
def test_edge_payloads_are_judged_like_the_slow_path(change, accepted):
    payload = _raw_map(change(_good_pairs()))
    verdict, snap = _outcome(payload)
    assert verdict == ("accepted" if accepted else "rejected")
    fast = _typed_outcome(payload)
    if fast is not None:
        _assert_same_values(fast, snap)
    if accepted:
        _assert_same_values(decode_snapshot_for_store(payload), snap)
    else:
        with pytest.raises(DecodeError):
            decode_snapshot_for_store(payload)


def test_msgspec_tier_takes_the_real_records():
    """The common case never falls back: every real record passes the msgspec tier."""
    for snap in GOOD:
        fast = _typed_outcome(encode_snapshot(snap))
        assert fast is not None
        _assert_same_values(fast, snap)
