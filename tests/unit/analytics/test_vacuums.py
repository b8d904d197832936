"""get_liquidity_vacuums: thin distance buckets over the whole period, robust to a moving mid."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from query.analytics import InsufficientData, get_liquidity_vacuums
from shared.model import BookSnapshot
from tests.unit.analytics.builders import fx
from tests.unit.analytics.markets import TICK, UNIT
from tests.unit.analytics.strategies import books

START = 1_000


def book(second: int, mid_ticks: int, gap: range | None) -> BookSnapshot:
    """Bid and ask every tick for 30 ticks (20 kept), bids missing at offsets in ``gap``."""
    bids = [((mid_ticks - i) * TICK, UNIT) for i in range(30) if gap is None or i not in gap]
    asks = [((mid_ticks + 1 + i) * TICK, UNIT) for i in range(30)]
    return BookSnapshot(
        "TESTUSDT", second, 1, second, second, 0, 0, tuple(bids[:20]), tuple(asks[:20])
    )


def vacuums(snaps, threshold=0.2):
    return get_liquidity_vacuums(
        snaps, symbol="TESTUSDT", start=START, end=START + len(snaps) + 5, threshold=threshold
    )


def test_gap_found_while_the_mid_moves():
    rng = random.Random(1)
    mid = 10_000
    snaps = []
    for i in range(120):
        mid += rng.choice((-2, -1, 0, 1, 2))
        snaps.append(book(START + i, mid, range(10, 13)))
    result = vacuums(snaps)
    assert result["snapshots_used"] == 120
    found = result["vacuums"]
    assert len(found) == 1
    gap = found[0]
    assert gap["side"] == "bid"
    assert gap["is_gap"] is True
    assert gap["volume_deficit_pct"] == pytest.approx(100.0)
    assert gap["expected_impact"] == "FastMovement"
    # The gap is exactly the prices 10..12 ticks below the latest best bid (inclusive).
    best_bid = mid * TICK
    assert (fx(gap["price_range_low"]), fx(gap["price_range_high"])) == (
        best_bid - 12 * TICK,
        best_bid - 10 * TICK,
    )
    assert result["bucket_width_ticks"] == 1
    assert gap["median_volume"] == pytest.approx(result["typical_bucket_depth"]["bid"])


def test_one_thin_snapshot_is_not_a_vacuum():
    snaps = [book(START + i, 10_000, None) for i in range(59)]
    snaps.append(book(START + 59, 10_000, range(10, 13)))  # only the latest has the gap
    assert vacuums(snaps)["vacuums"] == []


def test_threshold_controls_sensitivity():
    # Bids at offsets 10..12 carry a quarter of the usual size throughout.
    snaps = []
    for i in range(30):
        s = book(START + i, 10_000, None)
        bids = tuple((p, UNIT // 4 if 10 <= n <= 12 else q) for n, (p, q) in enumerate(s.bids))
        snaps.append(BookSnapshot("TESTUSDT", s.second, 1, s.seq, s.update_id, 0, 0, bids, s.asks))
    assert vacuums(snaps, 0.2)["vacuums"] == []
    thin = vacuums(snaps, 0.3)["vacuums"]
    assert len(thin) == 1
    assert thin[0]["is_gap"] is False
    assert thin[0]["volume_deficit_pct"] == pytest.approx(75.0, abs=10)


def test_needs_ten_snapshots():
    with pytest.raises(InsufficientData) as info:
        vacuums([book(START, 10_000, None)])
    assert (info.value.have, info.value.needed) == (1, 10)


@settings(max_examples=40, deadline=None)
@given(st.lists(books(), min_size=10, max_size=25), st.floats(0.05, 0.95))
def test_vacuum_invariants(sides, threshold):
    snaps = [
        BookSnapshot("TESTUSDT", START + i, 1, i, i, 0, 0, bids[:20], asks[:20])
        for i, (bids, asks) in enumerate(sides)
    ]
    result = vacuums(snaps, threshold)
    latest = snaps[-1]
    for v in result["vacuums"]:
        assert 100 * (1 - threshold) < v["volume_deficit_pct"] <= 100
        assert 0 <= v["empty_fraction"] <= 1
        low, high = fx(v["price_range_low"]), fx(v["price_range_high"])
        assert low <= high
        if v["side"] == "bid":
            assert high <= latest.bids[0][0]
        else:
            assert low >= latest.asks[0][0]


def uniform(second: int, best_bid: int, spread_ticks: int, tick: int, levels: int = 20):
    """Every tick on both sides holds the same quantity; the spread is ``spread_ticks`` ticks."""
    best_ask = best_bid + spread_ticks * tick
    bids = tuple((best_bid - i * tick, UNIT) for i in range(levels))
    asks = tuple((best_ask + i * tick, UNIT) for i in range(levels))
    return BookSnapshot("TESTUSDT", second, 1, second, second, 0, 0, bids, asks)


@pytest.mark.parametrize(
    ("best_bid", "tick"),
    [
        (6_000_000 * TICK, TICK),  # BTC-like: 60,000.00 with a 0.01 tick
        (1234, 1),  # 0.00001234 with a 0.00000001 tick
        (3_141_592_600, 100),  # 31.415926 with a 0.000001 tick
    ],
)
@pytest.mark.parametrize("spread_ticks", [1, 2, 3, 4, 6, 10])
def test_a_uniform_book_has_no_vacuum(best_bid, tick, spread_ticks):
    # Defect 1: float bps put levels on bucket edges, so floor() made empty and double buckets.
    snaps = [uniform(START + i, best_bid, spread_ticks, tick) for i in range(30)]
    result = vacuums(snaps)
    assert result["vacuums"] == []
