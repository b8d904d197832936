"""The numpy column path of the volume profile gives exactly the row path's reply."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from query.analytics import (
    AnalyticsError,
    PriceVolume,
    VolumeColumns,
    derive_symbol_tick,
    derive_symbol_tick_columns,
    get_volume_profile,
    get_volume_profile_columns,
    rows_from_trades,
)
from query.analytics.profile.cache import AggregateCache
from shared.volume import Volume
from tests.unit.analytics.replay import Replay, btcusdt, ethusdt

TICK = 1_000_000


def both(rows: list[PriceVolume], tick_size: int | None, derive: bool) -> tuple[object, object]:
    """(row path, column path) replies, or the (type, text) of the error each raised."""
    args: dict[str, Any] = {"symbol": "TESTUSDT", "start": 0, "end": 3600, "tick_size": tick_size}
    traded = [r.price for r in rows if r.trades]
    tick = derive_symbol_tick(traded) if derive and traded else None
    answers: list[object] = []
    calls = (
        lambda: get_volume_profile(rows, **args, symbol_tick=tick),
        lambda: get_volume_profile_columns(
            VolumeColumns.of_rows(rows).merged(), **args, symbol_tick=tick
        ),
    )
    for call in calls:
        try:
            answers.append(call())
        except AnalyticsError as exc:
            answers.append((type(exc), str(exc)))
    return answers[0], answers[1]


def split_rows(rows: list[PriceVolume], rnd: random.Random) -> list[PriceVolume]:
    """Each row as two rows of the same price (per-minute aggregates), shuffled."""
    split: list[PriceVolume] = []
    for r in rows:
        if r.qty > 1 and r.trades > 1:
            split += [
                PriceVolume(r.price, r.qty - 1, r.trades - 1, r.taker_buy_qty),
                PriceVolume(r.price, 1, 1, 0),
            ]
        else:
            split.append(r)
    rnd.shuffle(split)
    return split


row_data = st.lists(
    st.tuples(
        st.integers(9_000, 10_500).map(lambda t: t * TICK),
        st.integers(0, 10**10),
        st.integers(0, 50),
        st.integers(0, 100),
    ),
    max_size=200,
)


@settings(max_examples=200, deadline=None)
@given(
    row_data,
    st.sampled_from([None, TICK, 7 * TICK, 100 * TICK]),
    st.booleans(),
    st.randoms(),
)
def test_same_reply_as_the_row_path(data, tick_size, derive, rnd: random.Random):
    rows = [PriceVolume(p, q, n, q * b // 100) for p, q, n, b in data]
    rows = split_rows(rows, rnd)
    rows_answer, columns_answer = both(rows, tick_size, derive)
    assert rows_answer == columns_answer


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 10**15), st.integers(1, 10**10), st.integers(1, 5)),
        min_size=1,
        max_size=60,
    ),
    st.sampled_from([None, 10**12, 10**13]),
)
def test_sparse_prices_take_the_sorting_merge(data, tick_size):
    # Prices 1..10^15 apart by any step: too sparse for the dense grid.
    rows = [PriceVolume(p, q, n, q // 3) for p, q, n in data]
    rows_answer, columns_answer = both(rows, tick_size, derive=True)
    assert rows_answer == columns_answer


def test_sums_beyond_int64_stay_exact():
    # 2^62 per row: a dense int64 sum would overflow, so the arrays turn to Python ints.
    big = 2**62
    rows = [PriceVolume(100 * TICK + (i % 3) * TICK, big, 5, big // 2) for i in range(6)]
    rows_answer, columns_answer = both(rows, None, derive=True)
    assert isinstance(rows_answer, dict)
    assert rows_answer == columns_answer
    assert rows_answer["total_volume_qty"] == f"{6 * big // 10**8}.{6 * big % 10**8:08d}"


def test_no_rows_and_too_few_trades_fail_alike():
    assert both([], None, derive=False)[1][0].__name__ == "InsufficientData"
    rows = [PriceVolume(100 * TICK, 5, 3, 0), PriceVolume(101 * TICK, 0, 50, 0)]
    rows_answer, columns_answer = both(rows, TICK, derive=True)
    assert rows_answer == columns_answer
    assert "InsufficientData" in repr(rows_answer)


@pytest.fixture(scope="module", params=["BTCUSDT", "ETHUSDT"])
def replay(request) -> Replay:
    return {"BTCUSDT": btcusdt, "ETHUSDT": ethusdt}[request.param]()


def test_real_recording_aggregates_and_raw_trades(replay):
    """Per-minute aggregates (through the cache) plus raw edge trades == the trades' rows."""
    trades = list(replay.trades)
    first = trades[0].ts_trade // 1000
    cut_low, cut_high = first + 7, trades[-1].ts_trade // 1000 - 11  # ragged edges, read raw
    minutes: dict[int, list] = {}
    columns = VolumeColumns(AggregateCache())
    for t in trades:
        second = t.ts_trade // 1000
        if cut_low <= second < cut_high:
            minutes.setdefault(second // 60, []).append(t)
    for minute in sorted(minutes):
        chunk = minutes[minute]
        volume = Volume.of_trades(
            [t.price for t in chunk], [t.qty for t in chunk], [t.buyer_maker for t in chunk]
        )
        columns.add_aggregate(volume.encode(), ("volume", replay.symbol, minute * 60))
    edges = [t for t in trades if not cut_low <= t.ts_trade // 1000 < cut_high]
    columns.add_trades(
        [t.price for t in edges], [t.qty for t in edges], [t.buyer_maker for t in edges]
    )
    merged = columns.merged()
    rows = rows_from_trades(trades)
    assert merged.prices.tolist() == [r.price for r in rows]
    assert merged.qtys.tolist() == [r.qty for r in rows]
    assert merged.counts.tolist() == [r.trades for r in rows]
    assert merged.buys.tolist() == [r.taker_buy_qty for r in rows]
    args = {"symbol": replay.symbol, "start": first, "end": cut_high + 60}
    for tick_size in (None, 50 * TICK, 100 * TICK):
        tick = derive_symbol_tick_columns(merged.prices)
        assert tick == derive_symbol_tick(r.price for r in rows)
        assert get_volume_profile_columns(
            merged, **args, tick_size=tick_size, symbol_tick=tick
        ) == get_volume_profile(rows, **args, tick_size=tick_size, symbol_tick=tick)


def test_cache_reuses_equal_bytes_only_and_evicts_least_recent():
    def value(price: int) -> bytes:
        stored = Volume.of_trades([price, price + TICK], [3, 4], [False, True]).encode()
        assert stored is not None
        return stored

    cache = AggregateCache()
    first = cache.chunk(value(100 * TICK), "hour 1")
    assert cache.chunk(value(100 * TICK), "hour 1") is first  # equal bytes, another object
    assert (cache.hits, cache.misses, len(cache)) == (1, 1, 1)
    rewritten = cache.chunk(value(300 * TICK), "hour 1")  # the writer changed it: not stale
    assert rewritten[0].tolist() == [300 * TICK, 301 * TICK]
    assert (cache.hits, cache.misses, len(cache)) == (1, 2, 1)
    cache.chunk(value(200 * TICK), "hour 2")
    small = AggregateCache(max_bytes=cache.size // 2 + 1)
    small.chunk(value(100 * TICK), "hour 1")
    small.chunk(value(200 * TICK), "hour 2")
    assert len(small) == 1
    assert small.size <= small.max_weight
    small.chunk(value(200 * TICK), "hour 2")
    assert small.hits == 1  # the most recent one stayed


trade_data = st.lists(
    st.tuples(
        st.one_of(
            st.integers(9_000, 9_100).map(lambda t: t * TICK),  # on a tick grid: dense merge
            st.integers(1, 10**15),  # anywhere: sorting merge
        ),
        st.integers(1, 10**9),
        st.booleans(),
        st.integers(0, 3),  # 0: a raw trade; 1..3: in that aggregate
    ),
    max_size=80,
)


@settings(max_examples=150, deadline=None)
@given(trade_data, st.booleans())
def test_aggregates_and_trades_merge_to_the_trades_rows(data, packed):
    groups: dict[int, list[tuple[int, int, bool, int]]] = {}
    for item in data:
        groups.setdefault(item[3], []).append(item)
    columns = VolumeColumns(AggregateCache())
    for group, items in sorted(groups.items()):
        prices, qtys, makers = ([item[i] for item in items] for i in range(3))
        if group == 0:
            columns.add_trades(prices, qtys, makers)
        else:
            aggregate = Volume.of_trades(prices, qtys, makers)
            value = aggregate.encode() if packed else aggregate.encode_maps()
            columns.add_aggregate(value, group)
    merged = columns.merged()
    expected = Volume.of_trades(*([item[i] for item in data] for i in range(3))).rows()
    assert list(zip(*(c.tolist() for c in merged), strict=True)) == expected
