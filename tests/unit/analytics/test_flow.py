"""get_order_flow on hand-computed fixtures and its invariants."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, reject, settings

from query.analytics import InsufficientData, get_order_flow
from query.analytics.flow import classify_flow, side_changes
from tests.unit.analytics.builders import mirror_snap, mirror_trade, snap, trade
from tests.unit.analytics.strategies import CENTER, TICK, sessions

# Each record stores up to 3 levels a side: the asks are cut at their third level, the bids
# (two levels) show the whole side.
BEFORE = snap(
    99,
    [("100.00", "1"), ("99.99", "2")],
    [("100.01", "1"), ("100.02", "3"), ("100.05", "1")],
)
AFTER = snap(
    100,
    [("100.00", "1.5"), ("99.98", "1")],
    [("100.01", "0.5"), ("100.02", "3"), ("100.03", "2")],
)
TRADES = [
    trade(100, "100.00", "0.5", taker="sell"),
    trade(100, "100.01", "0.7", taker="buy"),
    trade(98, "100.01", "9", taker="buy"),  # before the window: ignored
]


def flow(snaps, trades, start=100, end=101):
    return get_order_flow(snaps, trades, symbol="TESTUSDT", window_start=start, window_end=end)


def test_hand_computed_window():
    result = flow([BEFORE, AFTER], TRADES)
    # Bids: 100.00 grew 0.5 after 0.5 traded -> 1.0 added; 99.99 gone -> 2 removed; 99.98 new -> 1.
    assert result["bid_flow_rate"] == pytest.approx(2.0)
    assert result["bid_cancel_rate"] == pytest.approx(2.0)
    # Asks: 100.01 fell 0.5 with 0.7 traded -> 0.2 added; 100.03 new -> 2; 100.05 is beyond
    # what AFTER shows (compared up to 100.03), so its disappearance is not a cancel.
    assert result["ask_flow_rate"] == pytest.approx(2.2)
    assert result["ask_cancel_rate"] == 0.0
    assert result["net_flow"] == pytest.approx(-0.2)
    assert result["flow_direction"] == "NEUTRAL"
    assert result["flow_ratio"] == pytest.approx(2.0 / 2.2)
    # CKS: both best prices unchanged -> (1.5 - 1) + (1 - 0.5) = 1.0.
    assert result["ofi"] == pytest.approx(1.0)
    assert result["ofi_ratio"] == pytest.approx(1.0)
    assert result["ofi_normalized"] == pytest.approx(1.0 / 1.0)  # mean touch depth (1.5+0.5)/2
    assert result["cumulative_delta"] == pytest.approx(0.2)
    assert result["cumulative_delta_qty"] == "0.20000000"
    assert result["taker_buy_volume"] == "0.70000000"
    assert result["taker_sell_trades"] == 1
    assert result["trades_used"] == 2
    assert (result["flow_seconds"], result["seconds_missing"]) == (1, 0)
    assert result["symbol"] == "TESTUSDT"
    assert (result["window_start"], result["window_end"]) == (100, 101)


def test_cks_event_when_prices_move():
    up = snap(100, [("100.01", "4")], [("100.02", "2")])
    result = flow([BEFORE, up], [])
    # Bid up: +4; ask up: +qa_prev = +1 -> e = 5.
    assert result["ofi"] == pytest.approx(5.0)


def test_gap_breaks_the_chain():
    late = snap(102, [("90.00", "100")], [("110.00", "100")])
    result = flow([BEFORE, AFTER, late], TRADES, 100, 103)
    assert result["flow_seconds"] == 1  # (99,100) only; 100 -> 102 is not a pair
    assert result["seconds_with_snapshots"] == 2
    assert result["seconds_missing"] == 1
    assert result["bid_flow_rate"] == pytest.approx(2.0)


def test_needs_two_snapshots_and_a_pair():
    with pytest.raises(InsufficientData) as info:
        flow([AFTER], [])
    assert (info.value.what, info.value.have, info.value.needed) == ("snapshots", 1, 2)
    assert "holds 1" in str(info.value)
    with pytest.raises(InsufficientData):
        flow([BEFORE, snap(101, [("1", "1")], [("2", "1")])], [], 100, 102)


def test_scrolled_in_levels_are_not_added():
    before = ((10, 1), (9, 1))
    after = ((9, 1), (8, 5))  # the book moved down; 8 only came into view
    assert side_changes(before, after, {}, bids=True, cut=(True, True)) == (0, 1)
    # With the whole side visible (fewer levels than the record stores) 8 really is new.
    assert side_changes(before, after, {}, bids=True, cut=(False, False)) == (5, 1)


@pytest.mark.parametrize(
    ("bid", "ask", "direction"),
    [
        (3.0, 1.0, "STRONG_BUY"),
        (2.0, 1.0, "MODERATE_BUY"),
        (1.2, 1.0, "MODERATE_BUY"),
        (1.0, 1.0, "NEUTRAL"),
        (0.8, 1.0, "NEUTRAL"),
        (0.5, 1.0, "MODERATE_SELL"),
        (0.49, 1.0, "STRONG_SELL"),
        (1.0, 0.0, "STRONG_BUY"),
        (0.0, 0.0, "NEUTRAL"),
        (0.0, 1.0, "STRONG_SELL"),
    ],
)
def test_direction_thresholds(bid, ask, direction):
    assert classify_flow(bid, ask)[0] == direction


FLIP = {
    "STRONG_BUY": "STRONG_SELL",
    "MODERATE_BUY": "MODERATE_SELL",
    "NEUTRAL": "NEUTRAL",
    "MODERATE_SELL": "MODERATE_BUY",
    "STRONG_SELL": "STRONG_BUY",
}


@settings(max_examples=150, deadline=None)
@given(sessions())
def test_mirror_flips_flow(data):
    snaps, trades = data
    k = 2 * CENTER * TICK
    try:
        result = flow(snaps, trades, 1001, 1012)
    except InsufficientData:
        reject()  # too few seconds to judge: discarded, it proves nothing
    mirrored = flow(
        [mirror_snap(s, k) for s in snaps], [mirror_trade(t, k) for t in trades], 1001, 1012
    )
    assert mirrored["bid_flow_rate"] == result["ask_flow_rate"]
    assert mirrored["ask_flow_rate"] == result["bid_flow_rate"]
    assert mirrored["net_flow"] == -result["net_flow"]
    assert mirrored["ofi"] == -result["ofi"]
    assert mirrored["ofi_normalized"] == pytest.approx(-result["ofi_normalized"])
    assert mirrored["cumulative_delta"] == -result["cumulative_delta"]
    ratio = result["flow_ratio"]
    # The API's thresholds are not symmetric (0.8 vs 1/1.2): between them NEUTRAL may flip to a
    # MODERATE label; everywhere else the direction flips exactly (docs/analytics.md).
    asymmetric = ratio is not None and (0.8 <= ratio < 1 / 1.2 or 1.2 < ratio <= 1.25)
    if result["ask_flow_rate"] > 0 and result["bid_flow_rate"] > 0 and not asymmetric:
        assert mirrored["flow_direction"] == FLIP[result["flow_direction"]]


@settings(max_examples=100, deadline=None)
@given(sessions())
def test_rates_are_finite_and_non_negative(data):
    snaps, trades = data
    try:
        result = flow(snaps, trades, 1001, 1012)
    except InsufficientData:
        reject()  # too few seconds to judge: discarded, it proves nothing
    for key in ("bid_flow_rate", "ask_flow_rate", "bid_cancel_rate", "ask_cancel_rate"):
        assert result[key] >= 0
        assert math.isfinite(result[key])
    assert result["ofi_ratio"] is None or -1.0 <= result["ofi_ratio"] <= 1.0
    assert result["flow_seconds"] + result["seconds_missing"] <= 11


def test_trades_after_the_books_last_event_belong_to_the_next_pair():
    # Defect 3: snapshot 100 is the book after its last depth event (ts_event 100.900); a trade
    # at 100.950 took the whole 2.0 bid at 100.00, which snapshot 101 no longer shows. Cut by
    # the trade's own second it was a phantom addition (100) and a phantom cancel (101).
    books = [
        snap(99, [("100.00", "2"), ("99.99", "1")], [("100.01", "1")]),
        snap(100, [("100.00", "2"), ("99.99", "1")], [("100.01", "1")]),
        snap(101, [("99.99", "1")], [("100.01", "1")]),
    ]
    late = trade(100, "100.00", "2", taker="sell", ms=950)
    result = flow(books, [late], start=100, end=102)
    assert result["bid_flow_rate"] == 0.0
    assert result["bid_cancel_rate"] == 0.0
    assert result["taker_sell_volume"] == "2.00000000"  # the delta still counts it in second 100


def test_a_level_placed_and_taken_within_the_second_is_added():
    # Defect 4: a bid placed at 100.01 and fully hit before the next book is in neither
    # snapshot; the definition applies the change to every price in range, so it is added.
    books = [
        snap(99, [("100.00", "1"), ("99.99", "1")], [("100.02", "1")]),
        snap(100, [("100.00", "1"), ("99.99", "1")], [("100.02", "1")]),
    ]
    result = flow(books, [trade(100, "100.01", "0.5", taker="sell")])
    assert result["bid_flow_rate"] == pytest.approx(0.5)
    assert result["bid_cancel_rate"] == 0.0


def test_a_record_of_fewer_than_twenty_levels_is_cut_at_its_own_depth():
    # Defect 5: a collector storing 10 levels; the book moves up a tick. 99.91 scrolled out of
    # the bids' view and 100.12 into the asks'; neither is a cancel or an addition.
    def book(second: int, best_bid_ticks: int) -> object:
        bids = [(f"{(best_bid_ticks - i) / 100:.2f}", "1") for i in range(10)]
        asks = [(f"{(best_bid_ticks + 2 + i) / 100:.2f}", "1") for i in range(10)]
        return snap(second, bids, asks)

    result = flow([book(99, 10_000), book(100, 10_001)], [])
    assert result["bid_flow_rate"] == pytest.approx(1.0)  # the new best bid 100.01
    assert result["bid_cancel_rate"] == 0.0
    assert result["ask_flow_rate"] == 0.0
    assert result["ask_cancel_rate"] == pytest.approx(1.0)  # 100.02 left the touch
    assert result["levels_compared"] == 10


def test_ofi_is_null_without_ofi_events():
    # Defect 9: with no two-sided pair there is no OFI event; 0.0 claimed a balanced flow.
    books = [snap(99, [("100.00", "1")], []), snap(100, [("100.00", "2")], [])]
    result = flow(books, [])
    assert result["ofi_events"] == 0
    assert (result["ofi"], result["ofi_normalized"], result["ofi_ratio"]) == (None, None, None)


def test_a_crossed_snapshot_breaks_the_chain_like_a_gap():
    # Defect 10: a crossed book is not a book; differencing it invents flow.
    crossed = snap(100, [("100.05", "9")], [("100.00", "9")])
    after = snap(101, [("100.00", "1")], [("100.01", "1")])
    with pytest.raises(InsufficientData, match="consecutive"):
        flow([BEFORE, crossed, after], [], 100, 102)
