"""Hostile messages for every endpoint, generated two ways: hypothesis strategies and mutations.

Every message here must be refused by the process that receives it (or, for the request
ROUTER, answered with an error or an ordinary reply): none may be stored or served. So the
generators never produce a valid record of a configured symbol's *own* collector session,
nor a new session stamped after the accepted one (a restarted collector is believed): telling
those from the real collector is what CURVE keys are for (docs/reliability.md, "Security").
Valid-looking records are for unconfigured symbols, or from foreign sessions with times already
passed, and carry the sentinel price ``SENTINEL`` that no real market has.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator

import msgpack
from hypothesis import strategies as st

from shared.codec import book_topic, encode, snap_topic
from shared.methods import NAMES
from shared.model import BookSnapshot, LiveBook, SecondTrades, Trade
from simulator.faults import NAMES as FAULTS

SENTINEL = 7  # a price of 0.00000007: never seen in the replayed markets, so never served
UNKNOWN = ("FUZZUSDT", "XRPUSDT", "BTCUSDT\n", "btcusdt", "B", "A" * 21, "BTC-USD", "ÉTHUSDT")
FAULT_NAMES_NOT_REAL = ("gapp", "", "DISCONNECT", "rest_error\n", "a" * 300, "\u202e")
EXTREME_INTS = (-(2**63), -1, 0, 1, 2**31, 2**53 + 1, 2**63 - 1, 2**64 - 1)

Message = list[bytes]


# --- building blocks ------------------------------------------------------------------------------


def fuzz_book(symbol: str, second: int, session: int) -> BookSnapshot:
    """A well-formed book at the sentinel price (only unknown symbols or foreign sessions)."""
    return BookSnapshot(
        symbol,
        second,
        session,
        1,
        10**12,
        second * 1000,
        second * 1000,
        ((SENTINEL, 1),),
        ((9, 1),),
    )


def fuzz_second(symbol: str, second: int, session: int) -> Message:
    trades = SecondTrades(symbol, second, (Trade(1, SENTINEL, 1, second * 1000, False),))
    return [snap_topic(symbol), encode(fuzz_book(symbol, second, session)), encode(trades)]


def fuzz_live(symbol: str, ts_event: int, session: int) -> Message:
    book = LiveBook(symbol, session, 1, 10**12, ts_event, ts_event, ((SENTINEL, 1),), ((9, 1),))
    return [book_topic(symbol), encode(book)]


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """Flip, cut, extend or splice a byte string."""
    if not data:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    kind = rng.randrange(5)
    buf = bytearray(data)
    if kind == 0:
        for _ in range(rng.randrange(1, 8)):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    elif kind == 1:
        del buf[rng.randrange(len(buf)) :]
    elif kind == 2:
        buf += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 256)))
    elif kind == 3:
        at = rng.randrange(len(buf))
        buf[at:at] = buf[: rng.randrange(1, len(buf) + 1)]
    else:
        return bytes(buf) * rng.randrange(2, 6)
    return bytes(buf)


def mutate_map(data: bytes, rng: random.Random) -> bytes:
    """Replace a field of a msgpack map with an extreme or odd value."""
    try:
        record = msgpack.unpackb(data, strict_map_key=False)
    except Exception:
        return mutate_bytes(data, rng)
    if not isinstance(record, dict) or not record:
        return mutate_bytes(data, rng)
    key = rng.choice(list(record))
    record[key] = rng.choice(
        [
            rng.choice(EXTREME_INTS),
            "9" * rng.randrange(1, 5000),
            "1e999999999",
            float("nan"),
            None,
            True,
            [[rng.choice(EXTREME_INTS), 1]] * rng.randrange(0, 50),
            "\u0000\ud7ff\ufeff" * 10,
            {"nested": [1, {"x": 2}]},
            b"\xff" * 10,
        ]
    )
    if rng.random() < 0.3:
        record[rng.choice(["tr", "zz", "\n", "sym "])] = 1
    return msgpack.packb(record, use_bin_type=True)


def mutate_message(message: Message, rng: random.Random) -> Message:
    """Wrong frame counts, swapped, truncated, oversized or field-mutated frames."""
    frames = list(message)
    kind = rng.randrange(7)
    if kind == 0:  # too few frames (never none: a message has at least one)
        return frames[: max(1, rng.randrange(len(frames)))]
    if kind == 1:
        return frames + frames[1:] * rng.randrange(1, 3)
    if kind == 2 and len(frames) > 2:
        frames[1], frames[2] = frames[2], frames[1]
        return frames
    if kind == 3:
        i = rng.randrange(len(frames))
        frames[i] = mutate_bytes(frames[i], rng)
        return frames
    if kind == 4:
        frames[0] = rng.choice([b"snap.", b"book.", b"snap.BTCUSDT\n", b"x" * 100, b""])
        return frames
    if kind == 5 and len(frames) > 1:
        frames[-1] = b"\x00" * rng.choice([0, 1, 5 * 1024 * 1024])  # oversize or empty
        return frames
    i = rng.randrange(1, len(frames)) if len(frames) > 1 else 0
    frames[i] = mutate_map(frames[i], rng)
    return frames


# --- per endpoint: mutation-based streams (fast; the bulk of a long campaign) --------------------


def ingest_stream(
    rng: random.Random, seeds: list[Message], now: Callable[[], int]
) -> Iterator[Message]:
    """For the writer's SUB: mutated real seconds, unknown symbols, foreign sessions."""
    while True:
        pick = rng.random()
        if pick < 0.5:
            yield mutate_message(rng.choice(seeds), rng)
        elif pick < 0.7:
            yield fuzz_second(
                rng.choice(UNKNOWN[:2]), now() - rng.randrange(0, 30), rng.randrange(2**62)
            )
        elif pick < 0.9:  # a foreign session of a configured symbol with seconds already passed
            yield fuzz_second(
                rng.choice(("BTCUSDT", "ETHUSDT")),
                now() - rng.randrange(5, 600),
                rng.randrange(2**62),
            )
        else:
            yield [
                bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
                for _ in range(rng.randrange(1, 5))
            ]


def backfill_stream(
    rng: random.Random, seeds: list[Message], now: Callable[[], int]
) -> Iterator[Message]:
    """For the writer's ROUTER (after the DEALER's routing id): hellos, records, dones, junk."""
    kinds = [b"hello", b"record", b"done", b"fetch", b"??", b""]
    while True:
        kind = rng.choice(kinds)
        if kind == b"record":
            seed = rng.choice(seeds)
            yield (
                [kind, *mutate_message(seed, rng)[1:]] if rng.random() < 0.7 else [kind, *seed[1:]]
            )
        else:
            payload = msgpack.packb(
                {
                    "sym": rng.choice(UNKNOWN),
                    "ses": rng.choice(EXTREME_INTS),
                    "seq": rng.choice(EXTREME_INTS),
                    "first": rng.choice([0, 1, now() - 10**9, now(), 2**63 - 1]),
                    "last": rng.choice([0, now(), now() + 10**9, 2**63 - 1]),
                    "from": rng.choice(EXTREME_INTS),
                    "to": rng.choice(EXTREME_INTS),
                    "count": rng.choice(EXTREME_INTS),
                    "v": rng.choice([1, 2, "1", None]),
                },
                use_bin_type=True,
            )
            yield [kind, mutate_map(payload, rng) if rng.random() < 0.5 else payload]


def live_stream(
    rng: random.Random, seeds: list[Message], now: Callable[[], int]
) -> Iterator[Message]:
    """For the query process's live SUB: books and seconds of strangers, from the future, junk."""
    while True:
        pick = rng.random()
        ms = now() * 1000
        if pick < 0.3:
            yield mutate_message(rng.choice(seeds), rng)
        elif pick < 0.5:
            yield fuzz_live(rng.choice(UNKNOWN[:2]), ms, rng.randrange(2**62))
        elif pick < 0.7:  # a foreign session of a configured symbol, stamped in the past
            yield fuzz_live(
                rng.choice(("BTCUSDT", "ETHUSDT")),
                ms - rng.randrange(5_000, 600_000),
                rng.randrange(2**62),
            )
        elif pick < 0.8:  # from the future
            yield fuzz_live("BTCUSDT", ms + rng.randrange(61_000, 10**9), rng.randrange(2**62))
        elif pick < 0.9:  # a stranger's book mutated (stamped in the past: see the module doc)
            yield mutate_message(fuzz_live("BTCUSDT", ms - rng.randrange(5_000, 600_000), 1), rng)
        else:
            yield [b"book." + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 30)))]


def request_stream(rng: random.Random) -> Iterator[bytes]:
    """For the query ROUTER: JSON requests with hostile ids, methods and parameters."""
    params_pool: list[object] = [
        "9" * 300_000,
        "1e999999999",
        "-0",
        "NaN",
        "١٢٣",
        " 60 ",
        2**64,
        -(2**63),
        1e308,
        True,
        None,
        [],
        {"a": {"b": {"c": [1] * 100}}},
        "BTCUSDT\n",
        "\u202e" * 50,
    ]
    names = [*NAMES, "", "nope", "status\n", "get_order_flow" * 100]
    keys = [
        "symbol",
        "window_duration_secs",
        "end",
        "start",
        "duration_hours",
        "tick_size",
        "threshold",
        "levels",
        "limit",
        "trades",
        "zzz",
    ]
    while True:
        pick = rng.random()
        if pick < 0.7:
            params = {rng.choice(keys): rng.choice(params_pool) for _ in range(rng.randrange(0, 4))}
            if rng.random() < 0.5:
                params["symbol"] = rng.choice(["BTCUSDT", "ETHUSDT", *UNKNOWN])
            body = {
                "id": rng.choice([1, "x" * 300, None, 2**70, [1]]),
                "method": rng.choice(names),
                "params": params,
            }
            yield json.dumps(body).encode()
        elif pick < 0.85:
            yield mutate_bytes(
                json.dumps({"id": 1, "method": "status", "params": {}}).encode(), rng
            )
        else:
            yield b"[" * rng.randrange(1, 100_000)  # deep nesting / unterminated


def fault_stream(rng: random.Random) -> Iterator[bytes]:
    """For the simulator's POST /admin/fault: never a real fault name, so nothing is injected."""
    while True:
        pick = rng.random()
        if pick < 0.7:
            body: object = {
                "fault": rng.choice(FAULT_NAMES_NOT_REAL),
                "symbol": rng.choice(UNKNOWN),
                rng.choice(["count", "seconds", "status", "x"]): rng.choice(
                    ["9" * 5000, 1e308, -1, None, [1]]
                ),
            }
            yield json.dumps(body).encode()
        elif pick < 0.85:
            yield mutate_bytes(b'{"fault": "gapp", "symbol": "FUZZUSDT"}', rng)
        else:
            yield rng.choice([b"[]", b"null", b'"x"', b"{" * 10_000, b"1e999999"])


# --- hypothesis strategies (structure-aware; the first part of every campaign) -----------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=15,
)

requests = st.builds(
    lambda request_id, method, params: json.dumps(
        {"id": request_id, "method": method, "params": params}, allow_nan=True
    ).encode(),
    st.one_of(st.none(), st.integers(), st.text(max_size=20)),
    st.sampled_from([*NAMES, "nope"]),
    st.dictionaries(
        st.sampled_from(
            [
                "symbol",
                "window_duration_secs",
                "end",
                "start",
                "duration_hours",
                "tick_size",
                "threshold",
                "levels",
            ]
        ),
        json_values,
        max_size=4,
    ),
)

WIRE_INTS = st.integers(-(2**63), 2**64 - 1)  # every int MessagePack can carry
wire_values = st.recursive(
    st.none()
    | st.booleans()
    | WIRE_INTS
    | st.floats()
    | st.text(max_size=40)
    | st.binary(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=15,
)

record_fields = st.fixed_dictionaries(
    {
        "sym": st.sampled_from(UNKNOWN) | st.text(max_size=25),
        "sec": WIRE_INTS,
        "ses": WIRE_INTS,
        "seq": WIRE_INTS,
        "uid": WIRE_INTS,
        "E": WIRE_INTS,
        "recv": WIRE_INTS,
        "b": st.lists(st.lists(WIRE_INTS, max_size=3), max_size=6),
        "a": st.lists(st.lists(WIRE_INTS, max_size=3), max_size=6),
        "v": st.integers(-2, 3),
    }
)


def _pack(record: dict[str, object]) -> bytes:
    return msgpack.packb(record, use_bin_type=True)


seconds_messages = st.builds(
    lambda topic, book, trades: [topic, _pack(book), _pack(trades)],
    st.sampled_from([b"snap.BTCUSDT", b"snap.FUZZUSDT", b"snap.ETHUSDT"]),
    record_fields,
    st.fixed_dictionaries(
        {
            "sym": st.text(max_size=25),
            "sec": WIRE_INTS,
            "tr": st.lists(st.lists(wire_values, max_size=6), max_size=5),
            "v": st.integers(0, 2),
        }
    ),
)

live_messages = st.builds(
    lambda topic, book: [topic, _pack({k: v for k, v in book.items() if k != "sec"})],
    st.sampled_from([b"book.BTCUSDT", b"book.FUZZUSDT", b"book.ETHUSDT"]),
    record_fields,
)

fault_bodies = st.builds(
    lambda body: json.dumps(body, allow_nan=True).encode(),
    st.fixed_dictionaries(
        {
            "fault": st.sampled_from(FAULT_NAMES_NOT_REAL)
            | st.text(max_size=10).filter(lambda s: s not in FAULTS)
        },
        optional={"symbol": json_values, "count": json_values, "seconds": json_values},
    ),
)
