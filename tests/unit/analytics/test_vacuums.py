"""get_liquidity_vacuums: thin distance buckets over the whole period, robust to a moving mid."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from query.analytics import InsufficientData, get_liquidity_vacuums
from shared.model import BookSnapshot
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
    # The gap's prices (offsets 10..12 below the latest best bid) lie inside the reported range.
    best_bid = (mid) * TICK / 1e8
    for offset in (10, 11, 12):
        assert (
            gap["price_range_low"] - 0.006
            <= best_bid - offset * 0.01
            <= gap["price_range_high"] + 0.006
        )
    assert gap["price_range_high"] < result["reference_mid"]
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
    mid = result["reference_mid"]
    for v in result["vacuums"]:
        assert 100 * (1 - threshold) < v["volume_deficit_pct"] <= 100
        assert 0 <= v["empty_fraction"] <= 1
        assert v["price_range_low"] < v["price_range_high"]
        if v["side"] == "bid":
            assert v["price_range_high"] <= mid
        else:
            assert v["price_range_low"] >= mid
