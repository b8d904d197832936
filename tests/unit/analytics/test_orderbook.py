"""orderbook_l1 / orderbook_l2 on hand-computed books."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from query.analytics import InsufficientData, ParameterError, orderbook_l1, orderbook_l2
from shared.fixedpoint import format_fixed
from shared.model import LiveBook
from tests.unit.analytics.builders import live
from tests.unit.analytics.strategies import CENTER, TICK, books

BOOK = live(
    [
        ("100.00", "2"),
        ("99.00", "100"),
        ("98.00", "1"),
        ("97.00", "1"),
        ("96.00", "1"),
        ("95.00", "1"),
    ],
    [("101.00", "1"), ("102.00", "3"), ("103.00", "1"), ("104.00", "1"), ("105.00", "1")],
)


def test_l1_touch_weighted_mid_imbalance_age():
    result = orderbook_l1(BOOK, now_ms=1_000_600)
    assert (result["best_bid"], result["best_bid_qty"]) == ("100.00000000", "2.00000000")
    assert (result["best_ask"], result["best_ask_qty"]) == ("101.00000000", "1.00000000")
    assert result["mid"] == pytest.approx(100.5)
    assert result["spread"] == "1.00000000"
    assert result["spread_bps"] == pytest.approx(1 / 100.5 * 1e4)
    # (Pb*Qa + Pa*Qb) / (Qa + Qb) = (100*1 + 101*2) / 3: the imbalance-weighted mid. Defect 6:
    # it was called "microprice", which names Stoikov's estimator, a different quantity.
    assert result["weighted_mid"] == pytest.approx(302 / 3)
    assert "microprice" not in result
    assert result["imbalance"] == pytest.approx((2 - 1) / 3)
    assert (result["data_age_ms"], result["event_age_ms"]) == (500, 600)
    assert result["symbol"] == "TESTUSDT"


def test_l1_walls():
    walls = orderbook_l1(BOOK, now_ms=0)["walls"]
    assert [w["price"] for w in walls["bids"]] == ["99.00000000"]  # 100 >= 5 x median 1
    assert walls["bids"][0]["multiple_of_median"] == pytest.approx(100.0)
    assert walls["bid_median_qty"] == pytest.approx(1.0)
    assert walls["asks"] == []  # 3 < 5 x median 1


def test_l1_slippage_walks_the_book():
    slip = orderbook_l1(BOOK, now_ms=0)["slippage"]
    # The asks hold 101 + 306 + 103 + 104 + 105 = 719 USD, the thinner side: sizes 10/25/50%.
    assert slip["reference_notional"] == pytest.approx(719)
    assert [s["notional"] for s in slip["buy"]] == pytest.approx([71.9, 179.75, 359.5])
    # Sell 71.9 USD: all at 100 (0.719 of the 2 there).
    sell = slip["sell"][0]
    assert sell["sufficient_depth"] is True
    assert (sell["average_price"], sell["levels_consumed"]) == (100.0, 1)
    assert sell["slippage_bps"] == pytest.approx(0.5 / 100.5 * 1e4)
    # Buy 359.5 USD: 1 @ 101, then 258.5 USD at 102 (2.534 of the 3 there).
    buy = slip["buy"][2]
    base = 1 + 258.5 / 102
    assert buy["sufficient_depth"] is True
    assert buy["filled_notional"] == pytest.approx(359.5)
    assert buy["average_price"] == pytest.approx(359.5 / base)
    assert buy["slippage_bps"] == pytest.approx((359.5 / base - 100.5) / 100.5 * 1e4)
    assert buy["levels_consumed"] == 2


def test_l1_empty_side():
    with pytest.raises(InsufficientData):
        orderbook_l1(live([("1", "1")], []), now_ms=0)


def test_l2_honours_levels_with_cumulative_sizes():
    result = orderbook_l2(BOOK, levels=3, now_ms=1_000_100)
    assert [b["price"] for b in result["bids"]] == ["100.00000000", "99.00000000", "98.00000000"]
    assert [b["cumulative_qty"] for b in result["bids"]] == [
        "2.00000000",
        "102.00000000",
        "103.00000000",
    ]
    assert len(result["asks"]) == 3
    assert result["levels_requested"] == 3
    assert result["data_age_ms"] == 0
    everything = orderbook_l2(BOOK, levels=100, now_ms=0)
    assert everything["levels_returned"] == {"bids": 6, "asks": 5}


@pytest.mark.parametrize("levels", [0, 101, "many"])
def test_l2_rejects_bad_levels(levels):
    with pytest.raises(ParameterError, match=r"levels.*1 to 100"):
        orderbook_l2(BOOK, levels=levels, now_ms=0)


@settings(max_examples=150, deadline=None)
@given(books(max_levels=60))
def test_l1_invariants_and_mirror(sides):
    bids, asks = sides
    book = LiveBook("TESTUSDT", 1, 1, 1, 0, 0, bids, asks)
    result = orderbook_l1(book, now_ms=0)
    assert bids[0][0] / 1e8 <= result["weighted_mid"] <= asks[0][0] / 1e8
    assert -1.0 <= result["imbalance"] <= 1.0
    for side in ("buy", "sell"):
        slips = [s["slippage_bps"] for s in result["slippage"][side]]
        assert slips == sorted(slips)  # a bigger order never fills better
        assert slips[0] > 0
    k = 2 * CENTER * TICK
    mirrored = orderbook_l1(
        LiveBook(
            "TESTUSDT",
            1,
            1,
            1,
            0,
            0,
            tuple((k - p, q) for p, q in asks),
            tuple((k - p, q) for p, q in bids),
        ),
        now_ms=0,
    )
    assert mirrored["imbalance"] == pytest.approx(-result["imbalance"])
    assert mirrored["spread"] == result["spread"]
    # (Slippage is not mirror-symmetric: a quote notional buys more units at lower prices.)
    assert mirrored["weighted_mid"] == pytest.approx(k / 1e8 - result["weighted_mid"])
    depth = orderbook_l2(book, levels=100, now_ms=0)
    assert depth["bids"][-1]["cumulative_qty"] == format_fixed(sum(q for _, q in bids[:100]))


def test_slippage_sizes_follow_the_books_depth_not_a_fixed_quote_amount():
    # Defect 9: 10k/25k/50k of the quote currency is 10,000 BTC on ETHBTC: no visible book holds
    # it. Sizes are 10/25/50% of the thinner side's visible quote notional (here 10 BTC).
    book = live(
        [(f"{0.05 - i * 0.00001:.5f}", "10") for i in range(20)],
        [(f"{0.05001 + i * 0.00001:.5f}", "10") for i in range(20)],
    )
    result = orderbook_l1(book, now_ms=1_000_600)
    bid_notional = sum((0.05 - i * 0.00001) * 10 for i in range(20))
    for side in ("buy", "sell"):
        walks = result["slippage"][side]
        assert [w["depth_fraction"] for w in walks] == [0.1, 0.25, 0.5]
        assert all(w["sufficient_depth"] for w in walks)
        for w in walks:
            assert w["notional"] == pytest.approx(w["depth_fraction"] * bid_notional)


def test_a_crossed_live_book_is_refused():
    # Defect 10: a negative spread is not a market to measure.
    with pytest.raises(InsufficientData, match="crossed"):
        orderbook_l1(live([("100.02", "1")], [("100.00", "1")]), now_ms=0)
    with pytest.raises(InsufficientData, match="crossed"):
        orderbook_l2(live([("100.00", "1")], [("100.00", "1")]), levels=5, now_ms=0)
