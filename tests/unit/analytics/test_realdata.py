"""Every tool on 1 s snapshots and trades replayed from the real Binance recordings."""

from __future__ import annotations

import gzip
import json
import math
from decimal import Decimal

import pytest

from query.analytics import (
    ANOMALIES_HISTORY,
    FLOW_HISTORY,
    HEALTH_HISTORY,
    History,
    detect_market_anomalies,
    get_liquidity_vacuums,
    get_microstructure_health,
    get_order_flow,
    get_volume_profile,
    orderbook_l1,
    orderbook_l2,
    rows_from_trades,
)
from shared.fixedpoint import parse_fixed
from tests.unit.analytics.replay import RECORDINGS, Replay, btcusdt, ethusdt

REPLAYS = {"BTCUSDT": btcusdt, "ETHUSDT": ethusdt}


@pytest.fixture(params=sorted(REPLAYS))
def replay(request) -> Replay:
    return REPLAYS[request.param]()


def last_window(replay: Replay, seconds: int = 60) -> tuple[int, int]:
    end = replay.snapshots[-1].second + 1
    return end - seconds, end


def load(replay: Replay, tool: History, start: int, end: int):
    """What the query process would load: [start - tool.snapshots, end]."""
    low = start - tool.snapshots
    snaps = [s for s in replay.snapshots if low <= s.second <= end]
    trades = [t for t in replay.trades if low * 1000 <= t.ts_trade < (end + 1) * 1000]
    return snaps, trades


def recorded_delta(files: tuple[str, ...], start: int, end: int) -> Decimal:
    """Taker buy minus taker sell volume summed straight from the recording's @trade events."""
    delta = Decimal(0)
    for name in files:
        with gzip.open(RECORDINGS / name, "rt") as handle:
            for line in handle:
                if "@trade" not in line:
                    continue
                data = json.loads(line.partition(" ")[2])["data"]
                if start * 1000 <= data["T"] < end * 1000:
                    delta += -Decimal(data["q"]) if data["m"] else Decimal(data["q"])
    return delta


def test_snapshots_are_best_first(replay):
    for snap in replay.snapshots:
        assert len(snap.bids) == 20
        assert len(snap.asks) == 20
        assert all(a[0] > b[0] for a, b in zip(snap.bids, snap.bids[1:], strict=False))
        assert all(a[0] < b[0] for a, b in zip(snap.asks, snap.asks[1:], strict=False))
        assert snap.bids[0][0] < snap.asks[0][0]


def test_order_flow_matches_the_recording(replay):
    start, end = last_window(replay)
    snaps, trades = load(replay, FLOW_HISTORY, start, end)
    result = get_order_flow(snaps, trades, symbol=replay.symbol, window_start=start, window_end=end)
    files = {
        "BTCUSDT": ("btcusdt_20240808.gz", "btcusdt_20240809.gz"),
        "ETHUSDT": ("ethusdt_20240808.gz",),
    }[replay.symbol]
    assert Decimal(result["cumulative_delta_qty"]) == recorded_delta(files, start, end)
    assert (result["flow_seconds"], result["seconds_missing"]) == (60, 0)
    assert result["bid_flow_rate"] > 0
    assert result["ask_flow_rate"] > 0
    assert math.isfinite(result["ofi"])
    assert -1 <= result["ofi_ratio"] <= 1
    assert result["taker_buy_trades"] + result["taker_sell_trades"] == result["trades_used"] > 0


def test_volume_profile_over_the_whole_recording(replay):
    start, end = replay.snapshots[0].second, replay.snapshots[-1].second + 1
    trades = [t for t in replay.trades if start * 1000 <= t.ts_trade < end * 1000]
    result = get_volume_profile(
        rows_from_trades(trades),
        symbol=replay.symbol,
        start=start,
        end=end,
        tick_size=None,
        symbol_tick=None,
    )
    low, high = min(t.price for t in trades), max(t.price for t in trades)
    poc = parse_fixed(result["point_of_control"])
    assert low <= poc <= high
    assert result["symbol_tick"] == "0.01000000"  # the exchange's tickSize, derived
    assert 50 <= result["bin_count"] <= 100
    assert result["value_area_percent"] >= 70
    assert parse_fixed(result["value_area_low"]) <= poc < parse_fixed(result["value_area_high"])
    assert result["total_volume_qty"] == format(sum(Decimal(t.qty) for t in trades) / 10**8, ".8f")
    # The POC is the most traded price of the busiest bin.
    in_bin = [
        t
        for t in trades
        if parse_fixed(result["poc_bin_low"]) <= t.price < parse_fixed(result["poc_bin_high"])
    ]
    by_price: dict[int, int] = {}
    for t in in_bin:
        by_price[t.price] = by_price.get(t.price, 0) + t.qty
    assert by_price[poc] == max(by_price.values())


def test_health_in_range(replay):
    start, end = last_window(replay)
    snaps, trades = load(replay, HEALTH_HISTORY, start, end)
    result = get_microstructure_health(
        snaps, trades, symbol=replay.symbol, window_start=start, window_end=end
    )
    assert result["baseline_used"] is True
    for key in (
        "overall_score",
        "spread_stability_score",
        "liquidity_depth_score",
        "flow_balance_score",
        "update_rate_score",
    ):
        assert 0 <= result[key] <= 100
    # Both markets were orderly in these minutes: a one-tick spread throughout.
    assert result["spread_stability_score"] > 95
    assert result["components"]["update_activity"]["update_ids_per_second"] > 10


def test_vacuums_and_anomalies_run(replay):
    start, end = replay.snapshots[0].second, replay.snapshots[-1].second + 1
    result = get_liquidity_vacuums(replay.snapshots, symbol=replay.symbol, start=start, end=end)
    assert result["snapshots_used"] == len(replay.snapshots)
    for vacuum in result["vacuums"]:
        side_ok = (
            vacuum["price_range_high"] <= result["reference_mid"]
            if vacuum["side"] == "bid"
            else vacuum["price_range_low"] >= result["reference_mid"]
        )
        assert side_ok
    w0, w1 = last_window(replay)
    snaps, trades = load(replay, ANOMALIES_HISTORY, w0, w1)
    found = detect_market_anomalies(
        snaps, trades, symbol=replay.symbol, window_start=w0, window_end=w1
    )
    assert found["checks_skipped"] == {}
    for a in found["anomalies"]:
        assert 0 <= a["confidence"] <= 1
    # At the very start there is no baseline: stuffing and flash-crash checks must stand down.
    first = replay.snapshots[0].second
    early = detect_market_anomalies(
        replay.snapshots,
        replay.trades,
        symbol=replay.symbol,
        window_start=first,
        window_end=first + 60,
    )
    assert "quote_stuffing" in early["checks_skipped"]
    assert not [a for a in early["anomalies"] if a["type"] in ("QuoteStuffing", "FlashCrashRisk")]


def test_l1_l2_on_the_final_book(replay):
    book = replay.final_book
    l1 = orderbook_l1(book, now_ms=book.ts_recv + 250)
    assert (
        parse_fixed(l1["best_bid"])
        == book.bids[0][0]
        < parse_fixed(l1["best_ask"])
        == book.asks[0][0]
    )
    assert (
        parse_fixed(l1["best_bid"]) / 1e8 <= l1["weighted_mid"] <= parse_fixed(l1["best_ask"]) / 1e8
    )
    assert l1["data_age_ms"] == 250
    for side in ("buy", "sell"):
        slips = [s["slippage_bps"] for s in l1["slippage"][side]]
        assert slips == sorted(slips)
        assert slips[0] > 0
    l2 = orderbook_l2(book, levels=7, now_ms=book.ts_recv)
    assert len(l2["bids"]) == len(l2["asks"]) == 7
