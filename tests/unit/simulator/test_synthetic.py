"""The synthetic market: uncrossed, contiguous, self-consistent and seedable."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.instruments import instrument_for
from simulator.market import (
    AggTradeEvent,
    Book,
    BookTickerEvent,
    DepthEvent,
    TradeEvent,
)
from simulator.synthetic import STEP_MS, SyntheticMarket
from simulator.synthetic_source import SyntheticSource


def run(market: SyntheticMarket, steps: int, start_ms: int = 0):
    events = []
    for i in range(1, steps + 1):
        events.extend(market.step(start_ms + i * STEP_MS))
    return events


def test_book_stays_uncrossed_full_and_contiguous():
    market = SyntheticMarket(instrument_for("BTCUSDT"), seed=7, start_ms=0)
    client = Book()
    snapshot = market.snapshot(5000)
    client.apply(snapshot.bids, snapshot.asks)
    last_id = snapshot.last_update_id
    for i in range(1, 3001):  # five minutes of market time
        for event in market.step(i * STEP_MS):
            if isinstance(event, DepthEvent):
                assert event.first_id == last_id + 1
                assert event.last_id - event.first_id + 1 >= len(event.bids) + len(event.asks)
                client.apply(event.bids, event.asks)
                last_id = event.last_id
        assert not market.book.is_crossed()
        assert len(market.book.bids) >= 500
        assert len(market.book.asks) >= 500
    # A client applying every diff to the first snapshot ends with exactly the market's book.
    assert client.bids == market.book.bids
    assert client.asks == market.book.asks


def test_trades_consume_levels_in_the_same_diff():
    market = SyntheticMarket(instrument_for("ETHUSDT"), seed=3, start_ms=0)
    checked = 0
    for i in range(1, 2001):
        events = market.step(i * STEP_MS)
        trades = [e for e in events if isinstance(e, TradeEvent)]
        if not trades:
            continue
        diff = next(e for e in events if isinstance(e, DepthEvent))
        bid_changes, ask_changes = dict(diff.bids), dict(diff.asks)
        for trade in trades:
            # The traded level (bids when the buyer was the maker) is reduced or deleted in
            # this very diff.
            changes = bid_changes if trade.buyer_maker else ask_changes
            assert trade.price in changes
            book_side = market.book.bids if trade.buyer_maker else market.book.asks
            assert changes[trade.price] == book_side.get(trade.price, 0)
            checked += 1
    assert checked > 1000


def test_agg_trades_aggregate_the_trades_exactly():
    market = SyntheticMarket(instrument_for("BTCUSDT"), seed=11, start_ms=0)
    events = run(market, 1000)
    trades = {e.trade_id: e for e in events if isinstance(e, TradeEvent)}
    aggs = [e for e in events if isinstance(e, AggTradeEvent)]
    assert aggs
    assert trades
    covered = []
    for agg in aggs:
        parts = [trades[t] for t in range(agg.first_trade_id, agg.last_trade_id + 1)]
        assert sum(p.qty for p in parts) == agg.qty
        assert {(p.price, p.trade_ms, p.buyer_maker) for p in parts} == {
            (agg.price, agg.trade_ms, agg.buyer_maker)
        }
        covered.extend(range(agg.first_trade_id, agg.last_trade_id + 1))
    assert covered == sorted(trades)
    assert [a.agg_id for a in aggs] == list(range(aggs[0].agg_id, aggs[0].agg_id + len(aggs)))


def test_book_ticker_is_the_top_of_the_book_at_its_update_id():
    market = SyntheticMarket(instrument_for("SOLUSDT"), seed=5, start_ms=0)
    for i in range(1, 500):
        events = market.step(i * STEP_MS)
        for event in events:
            if isinstance(event, BookTickerEvent):
                assert event.update_id == market.update_id
                assert (event.bid_price, event.bid_qty) == market.book.best_bid()
                assert (event.ask_price, event.ask_qty) == market.book.best_ask()


def test_prices_and_sizes_respect_the_filters():
    instrument = instrument_for("XYZUSDT")
    market = SyntheticMarket(instrument, seed=1, start_ms=0)
    for event in run(market, 300):
        if isinstance(event, DepthEvent):
            for price, qty in event.bids + event.asks:
                assert price % instrument.tick == 0
                assert qty % instrument.step == 0


def test_same_seed_same_market_and_symbols_differ():
    one = SyntheticSource(("BTCUSDT", "ETHUSDT"), seed=42, start_ms=0)
    two = SyntheticSource(("BTCUSDT", "ETHUSDT"), seed=42, start_ms=0)
    for ms in range(100, 5001, 100):
        assert one.advance(ms) == two.advance(ms)
    btc = one.snapshot("BTCUSDT", 1).bids[0][0]
    eth = one.snapshot("ETHUSDT", 1).bids[0][0]
    assert 40_000e8 < btc < 80_000e8
    assert 1_500e8 < eth < 4_000e8
    other = SyntheticSource(("BTCUSDT",), seed=43, start_ms=0)
    assert other.advance(5000) != SyntheticSource(("BTCUSDT",), seed=42, start_ms=0).advance(5000)


def test_about_ten_depth_events_a_second():
    source = SyntheticSource(("BTCUSDT",), seed=1, start_ms=0)
    depth = [
        e for ms in range(100, 60_001, 100) for e in source.advance(ms) if isinstance(e, DepthEvent)
    ]
    assert 500 <= len(depth) <= 600


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32), symbol=st.sampled_from(["BTCUSDT", "DOGEUSDT", "ABCBTC", "Q1USDT"])
)
def test_any_seed_and_symbol_stays_valid(seed, symbol):
    market = SyntheticMarket(instrument_for(symbol), seed=seed, start_ms=0)
    last = market.update_id
    for event in run(market, 200):
        if isinstance(event, DepthEvent):
            assert event.first_id == last + 1
            last = event.last_id
    assert not market.book.is_crossed()
    assert all(q > 0 for q in market.book.bids.values())
