"""Metamorphic properties: transformations of the input whose effect on the output is known."""

from __future__ import annotations

import math
import random
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from query.analytics import (
    InsufficientData,
    detect_market_anomalies,
    get_liquidity_vacuums,
    get_market_quality,
    get_microstructure_health,
    get_order_flow,
    get_volume_profile,
    orderbook_l1,
    rows_from_trades,
)
from shared.fixedpoint import format_fixed, parse_fixed
from shared.model import BookSnapshot, LiveBook, Trade
from tests.reference.markets import START, TICKS, live_book, market, shapes
from tests.unit.analytics.markets import bursty

REL = 1e-9


def mirror(snap: BookSnapshot, k: int) -> BookSnapshot:
    return msgspec.structs.replace(
        snap,
        bids=tuple((k - p, q) for p, q in snap.asks),
        asks=tuple((k - p, q) for p, q in snap.bids),
    )


def scaled(snap: BookSnapshot, k: int) -> BookSnapshot:
    return msgspec.structs.replace(
        snap,
        bids=tuple((p, q * k) for p, q in snap.bids),
        asks=tuple((p, q * k) for p, q in snap.asks),
    )


def close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(TICKS),
    st.sampled_from([1_234, 60_000, 6_000_000]),
    st.integers(1, 9),
    st.integers(1, 60),
)
def test_a_uniform_book_has_no_vacuum(tick, base, spread, levels):
    assume(base - levels > 0)
    snaps = [
        BookSnapshot(
            "TESTUSDT",
            START + i,
            1,
            i + 1,
            i,
            0,
            0,
            tuple(((base - j) * tick, 10**8) for j in range(levels)),
            tuple(((base + spread + j) * tick, 10**8) for j in range(levels)),
        )
        for i in range(12)
    ]
    result = get_liquidity_vacuums(snaps, symbol="TESTUSDT", start=START, end=START + 12)
    assert result["vacuums"] == []


@settings(max_examples=80, deadline=None)
@given(shapes())
def test_mirroring_flips_every_signed_flow_measure(shape):
    snaps, trades = market(shape)
    k = 2 * shape.base_ticks * shape.tick + 10 * shape.tick
    assume(
        all(p < k for s in snaps for p, _ in (*s.bids, *s.asks))
        and all(t.price < k for t in trades)
    )
    end = START + shape.seconds
    try:
        flow = get_order_flow(snaps, trades, symbol="TESTUSDT", window_start=START, window_end=end)
    except InsufficientData:
        assume(False)
        raise
    flipped = get_order_flow(
        [mirror(s, k) for s in snaps],
        [Trade(t.agg_id, k - t.price, t.qty, t.ts_trade, not t.buyer_maker) for t in trades],
        symbol="TESTUSDT",
        window_start=START,
        window_end=end,
    )
    assert close(flipped["bid_flow_rate"], flow["ask_flow_rate"])
    assert close(flipped["bid_cancel_rate"], flow["ask_cancel_rate"])
    assert close(flipped["net_flow"], -flow["net_flow"])
    assert flipped["ofi"] == (None if flow["ofi"] is None else -flow["ofi"])
    assert flipped["cumulative_delta"] == -flow["cumulative_delta"]


@settings(max_examples=60, deadline=None)
@given(shapes(st.sampled_from([5, 20, 100])))
def test_mirroring_flips_the_touch_imbalance(shape):
    book = live_book(shape)
    assume(book.bids and book.asks and book.bids[0][0] < book.asks[0][0])
    k = 2 * shape.base_ticks * shape.tick + 10 * shape.tick
    mirrored = LiveBook(
        book.symbol,
        book.session,
        book.seq,
        book.update_id,
        book.ts_event,
        book.ts_recv,
        tuple((k - p, q) for p, q in book.asks),
        tuple((k - p, q) for p, q in book.bids),
    )
    one, two = orderbook_l1(book, now_ms=0), orderbook_l1(mirrored, now_ms=0)
    assert two["imbalance"] == -one["imbalance"]
    assert close(two["weighted_mid"], k / 1e8 - one["weighted_mid"])
    assert two["spread"] == one["spread"]


@settings(max_examples=60, deadline=None)
@given(shapes(seconds=st.integers(60, 70)), st.integers(2, 1000))
def test_scaling_quantities_scales_volumes_and_leaves_ratios(shape, k):
    snaps, trades = market(shape)
    big = [scaled(s, k) for s in snaps]
    big_trades = [msgspec.structs.replace(t, qty=t.qty * k) for t in trades]
    end = START + 60
    args = {"symbol": "TESTUSDT", "window_start": START, "window_end": end}
    try:
        flow = get_order_flow(snaps, trades, **args)
        quality = get_market_quality(snaps, trades, **args)
    except InsufficientData:
        assume(False)
        raise
    flow_k = get_order_flow(big, big_trades, **args)
    quality_k = get_market_quality(big, big_trades, **args)
    assert close(flow_k["bid_flow_rate"], k * flow["bid_flow_rate"])
    assert flow_k["flow_direction"] == flow["flow_direction"]
    assert close(flow_k["ofi_ratio"], flow["ofi_ratio"])
    assert close(flow_k["ofi_normalized"], flow["ofi_normalized"])
    assert Decimal(flow_k["taker_buy_volume"]) == k * Decimal(flow["taker_buy_volume"])
    for key in ("effective_spread_bps", "realized_spread_5s_bps", "quoted_spread_bps"):
        assert close(quality_k["execution"][key], quality["execution"][key])
    assert close(quality_k["price_impact"]["r_squared"], quality["price_impact"]["r_squared"])
    slope = quality["price_impact"]["impact_slope"]
    assert close(quality_k["price_impact"]["impact_slope"], None if slope is None else slope / k)
    assert quality_k["volatility"] == quality["volatility"]
    health = get_microstructure_health(snaps, trades, **args)
    health_k = get_microstructure_health(big, big_trades, **args)
    for key in ("overall_score", "spread_stability_score", "liquidity_depth_score"):
        assert close(health_k[key], health[key])
    assert close(health_k["flow_balance_score"], health["flow_balance_score"])
    assert health_k["health_level"] == health["health_level"]
    period = {"symbol": "TESTUSDT", "start": START, "end": end}
    try:
        holes = get_liquidity_vacuums(snaps, **period)
    except InsufficientData:
        return
    holes_k = get_liquidity_vacuums(big, **period)
    assert [v["price_range_low"] for v in holes_k["vacuums"]] == [
        v["price_range_low"] for v in holes["vacuums"]
    ]
    for a, b in zip(holes_k["vacuums"], holes["vacuums"], strict=True):
        assert close(a["volume_deficit_pct"], b["volume_deficit_pct"])
        assert close(a["actual_volume"], k * b["actual_volume"])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32), st.sampled_from(TICKS), st.integers(-500, 500))
def test_shifting_prices_by_whole_ticks_moves_poc_and_value_area(seed, tick, shift):
    rng = random.Random(seed)
    base = 60_000
    trades = [
        Trade(i, (base + rng.randint(-40, 40)) * tick, rng.randint(1, 10**9), i, rng.random() < 0.5)
        for i in range(rng.randint(10, 200))
    ]
    moved = [msgspec.structs.replace(t, price=t.price + shift * tick) for t in trades]
    args = {"symbol": "TESTUSDT", "start": 0, "end": 3600, "tick_size": tick, "symbol_tick": tick}
    one = get_volume_profile(rows_from_trades(trades), **args)
    two = get_volume_profile(rows_from_trades(moved), **args)
    for key in ("point_of_control", "value_area_low", "value_area_high"):
        assert two[key] == format_fixed(parse_fixed(one[key]) + shift * tick)
    assert two["value_area_volume"] == one["value_area_volume"]


@pytest.mark.parametrize("seed", range(6))
def test_a_window_from_its_baselines_own_distribution_raises_no_anomaly(seed):
    snaps, trades = bursty(50_000, seed=seed, trades_too=True)
    result = detect_market_anomalies(
        snaps, trades, symbol="TESTUSDT", window_start=50_600, window_end=50_660
    )
    assert result["anomalies"] == []
