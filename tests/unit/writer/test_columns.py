"""A drained run validated in columns gives, message by message, what the per-record path gives.

The reference is ``validate_message`` on each message alone (msgspec's typed decode and the
checks of ``shared.codec``): the same Record (fields, bytes, trades) or the same rejection
(reason and detail), on real, random and mutated messages.
"""

from __future__ import annotations

import dataclasses
import random

import msgspec
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.codec import encode, snap_topic
from shared.model import MAX_INT64, BookSnapshot, SecondTrades, Trade
from tests.integration.writer.recorded import recorded, retimed
from writer.columns import LARGEST, MIN_RUN, _accept_run, validate_messages
from writer.pending import Record
from writer.validate import Limits, Rejected, validate_message

NOW = 1_800_000_000.5
LIMITS = Limits(max_age=86_400, max_ahead=60)


def reference(messages: list[list[bytes]]) -> list[tuple]:
    out: list[tuple] = []
    for frames in messages:
        try:
            out.append(summary(validate_message(frames, NOW, LIMITS, 2.5)))
        except Rejected as rejected:
            out.append(summary(rejected))
    return out


def summary(result: Record | Rejected) -> tuple:
    if isinstance(result, Rejected):
        return ("rejected", result.reason, result.detail)
    assert result.trade_fields.dtype == np.int64
    assert result.trade_fields.shape[1:] == (5,)
    return (
        result.symbol,
        result.second,
        bytes(result.snapshot),
        bytes(result.trades),
        result.session,
        result.seq,
        result.backfilled,
        result.received,
        result.trade_fields.tolist(),
    )


def check(messages: list[list[bytes]]) -> list[tuple]:
    got = [summary(r) for r in validate_messages(messages, NOW, LIMITS, 2.5)]
    expected = reference(messages)
    assert got == expected
    return got


def any_uint(rng: random.Random, low: int = 0) -> int:
    ranges = [(low, 127), (128, 255), (256, 65_535), (65_536, 2**32 - 1), (2**32, MAX_INT64)]
    return rng.randint(*rng.choice(ranges))


def random_message(rng: random.Random) -> list[bytes]:
    """Mostly valid seconds; some unordered, crossed, late, disagreeing or of another symbol."""
    symbol = rng.choice(["BTCUSDT", "ETHUSDT", "SOLUSDT", "X1"])
    second = int(NOW) - rng.choice([0, 1, 5, 3600, 86_400, 86_401]) + rng.choice([0, 0, 60, 61])
    mid = rng.randint(10, 10**12)
    depth = rng.choice([0, 1, 2, 20, 20, 100])
    bids = [(mid - 1 - i * rng.choice([1, 1, 1, 0]), any_uint(rng, 1)) for i in range(depth)]
    asks = [(mid + 1 + i * rng.choice([1, 1, 1, -1]), any_uint(rng, 1)) for i in range(depth)]
    if rng.random() < 0.05 and bids and asks:
        bids[0] = (asks[0][0] + rng.choice([0, 1]), bids[0][1])  # crossed or touching
    if rng.random() < 0.05:
        rng.shuffle(bids)
    trades = tuple(
        Trade(any_uint(rng), any_uint(rng, 1), any_uint(rng, 1), any_uint(rng), rng.random() < 0.5)
        for _ in range(rng.choice([0, 0, 1, 3, 20, 200]))
    )
    session, seq, update_id, event, recv = (any_uint(rng) for _ in range(5))
    book = BookSnapshot(
        symbol, second, session, seq, update_id, event, recv, tuple(bids), tuple(asks)
    )
    trades_of = rng.choice([symbol] * 8 + ["ETHUSDT"])
    trades_second = second + rng.choice([0] * 15 + [1])
    topic = snap_topic(rng.choice([symbol] * 15 + ["BTCUSDT"]))
    return [topic, encode(book), encode(SecondTrades(trades_of, trades_second, trades))]


def mutated(rng: random.Random, frames: list[bytes]) -> list[bytes]:
    """A byte flipped, a frame cut or extended, a frame dropped, or an int re-encoded wider."""
    frames = list(frames)
    which = rng.choice([1, 1, 2, 2, 0])
    data = bytearray(frames[which])
    kind = rng.randrange(5)
    if kind == 0 and data:
        data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == 1:
        del data[rng.randrange(len(data) + 1) :]
    elif kind == 2:
        data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
    elif kind == 3:
        return frames[: rng.randint(0, 2)]
    else:
        data = bytearray(data.replace(b"\x92\x01", b"\x92\xcc\x01", 1))  # not as msgspec writes
    frames[which] = bytes(data)
    return frames


@pytest.mark.parametrize("seed", range(12))
def test_random_runs_match_the_per_record_path(seed):
    rng = random.Random(seed)
    messages = [random_message(rng) for _ in range(rng.randint(MIN_RUN, 300))]
    check(messages)


@pytest.mark.parametrize("seed", range(12))
def test_mutated_messages_match_the_per_record_path(seed):
    rng = random.Random(100 + seed)
    messages = [random_message(rng) for _ in range(rng.randint(MIN_RUN, 200))]
    for index in rng.sample(range(len(messages)), k=max(1, len(messages) // 5)):
        messages[index] = mutated(rng, messages[index])
    check(messages)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32), st.integers(0, 2000), st.integers(0, 255))
def test_any_byte_changed_matches_the_per_record_path(seed, position, value):
    rng = random.Random(seed)  # (st.randoms draws entropy per call: too much for these runs)
    messages = [random_message(rng) for _ in range(MIN_RUN)]
    frames = messages[rng.randrange(len(messages))]
    which = rng.choice([1, 2])
    data = bytearray(frames[which])
    data[position % len(data)] = value
    frames[which] = bytes(data)
    check(messages)


def test_real_seconds_are_all_accepted_as_the_per_record_path_reads_them():
    real = recorded("BTCUSDT") + recorded("ETHUSDT")
    messages = [retimed(s, int(NOW) - len(real) + i, 1, i + 1).frames() for i, s in enumerate(real)]

    got = check(messages)

    assert all(row[0] != "rejected" for row in got)


def test_a_trades_array_with_bytes_after_it_is_rejected_as_the_per_record_path_does():
    rng = random.Random(3)
    messages = [random_message(rng) for _ in range(MIN_RUN)]
    good = retimed(recorded("BTCUSDT")[0], int(NOW), 1, 1).frames()
    trades = msgspec.msgpack.decode(good[2])
    trades["tr"] = []
    body = msgspec.msgpack.encode(trades)
    # the empty trades array followed by a stray byte, the version after it
    messages.append([good[0], good[1], body.replace(b"\xa2tr\x90", b"\xa2tr\x90\x01", 1)])
    messages.append([good[0], good[1], body.replace(b"\xa2tr\x90", b"\xa2tr\xdc\x00\x00", 1)])

    got = check(messages)

    assert got[-2][:2] == ("rejected", "decode")


def test_a_small_run_takes_the_per_record_path_with_the_same_results():
    rng = random.Random(9)
    for size in (0, 1, 2, 10, MIN_RUN - 1, MIN_RUN):
        check([random_message(rng) for _ in range(size)])


def test_the_columns_accept_every_valid_message_as_msgspec_writes_it():
    rng = random.Random(1)
    messages = [random_message(rng) for _ in range(500)]
    results: list[Record | Rejected | None] = [None] * len(messages)

    _accept_run(messages, NOW, LIMITS, 2.5, results)

    accepted = [r is not None for r in results]
    assert accepted == [row[0] != "rejected" for row in reference(messages)]
    assert 50 < sum(accepted) < 450


def test_a_deep_book_is_read_in_the_run_as_the_per_record_path_reads_it():
    rng = random.Random(4)
    messages = [random_message(rng) for _ in range(MIN_RUN)]
    deep = retimed(recorded("BTCUSDT")[0], int(NOW), 1, 1)
    top = deep.bids[0][0]
    bids = tuple((top - i, 1) for i in range(1000))
    messages.append(dataclasses.replace(deep, bids=bids, asks=((top + 1, 1),)).frames())
    assert len(messages[-1][1]) <= LARGEST
    results: list[Record | Rejected | None] = [None] * len(messages)

    _accept_run(messages, NOW, LIMITS, 2.5, results)
    got = check(messages)

    assert isinstance(results[-1], Record)
    assert got[-1][0] == "BTCUSDT"


def test_a_frame_too_large_for_a_run_takes_the_per_record_path():
    rng = random.Random(6)
    messages = [random_message(rng) for _ in range(MIN_RUN)]
    busy = retimed(recorded("BTCUSDT")[0], int(NOW), 1, 1)
    trades = tuple(Trade(i, 10**12, 10**8, int(NOW) * 1000, i % 2 == 0) for i in range(2000))
    messages.append(dataclasses.replace(busy, trades=trades).frames())
    assert len(messages[-1][2]) > LARGEST
    results: list[Record | Rejected | None] = [None] * len(messages)

    _accept_run(messages, NOW, LIMITS, 2.5, results)
    got = check(messages)

    assert results[-1] is None
    assert got[-1][0] == "BTCUSDT"
