"""Parsing the real recordings, and replaying them through loops."""

from __future__ import annotations

import gzip
import itertools

import pytest

from simulator.market import AggTradeEvent, Book, BookTickerEvent, DepthEvent, TradeEvent
from simulator.recordings import (
    RecordingError,
    available_symbols,
    load_recording,
    parse_line,
    recording_files,
)
from simulator.replay import ReplaySource
from tests.conftest import RECORDINGS


@pytest.fixture(scope="module")
def btc():
    return load_recording(RECORDINGS, "BTCUSDT")


@pytest.fixture(scope="module")
def eth():
    return load_recording(RECORDINGS, "ETHUSDT")


def test_files_in_name_order(recordings):
    assert [p.name for p in recording_files(recordings, "BTCUSDT")] == [
        "btcusdt_20240808.gz",
        "btcusdt_20240809.gz",
    ]
    assert available_symbols(recordings) == ["BTCUSDT", "ETHUSDT"]


def test_parse_line():
    stamp, record = parse_line(b'1723161253937085768 {"a": 1}')
    assert stamp == 1723161253937085768
    assert record == {"a": 1}
    with pytest.raises(ValueError, match="not JSON"):
        parse_line(b"1 {not json")


def test_btcusdt_recording_joins_both_files(btc):
    depth = [t.event for t in btc.timeline if isinstance(t.event, DepthEvent)]
    assert btc.snapshot.last_update_id == 50093239218
    assert len(btc.snapshot.bids) == 1000
    assert len(btc.snapshot.asks) == 1000
    assert len(depth) == 6493
    assert depth[0].first_id <= btc.snapshot.last_update_id + 1 <= depth[0].last_id
    assert all(b.first_id == a.last_id + 1 for a, b in itertools.pairwise(depth))
    assert depth[-1].last_id == 50093696318
    assert btc.bad_lines == 0
    times = [t.recv_ns for t in btc.timeline]
    assert times == sorted(times)


def test_agg_trades_are_synthesized_from_consecutive_trades(btc):
    trades = [t.event for t in btc.timeline if isinstance(t.event, TradeEvent)]
    aggs = [t.event for t in btc.timeline if isinstance(t.event, AggTradeEvent)]
    assert len(trades) == 19_904 - 1 or len(trades) > 19_000
    by_id = {t.trade_id: t for t in trades}
    assert sum(a.last_trade_id - a.first_trade_id + 1 for a in aggs) == len(trades)
    for agg in aggs:
        parts = [by_id[i] for i in range(agg.first_trade_id, agg.last_trade_id + 1)]
        assert sum(p.qty for p in parts) == agg.qty
        assert all(
            (p.price, p.trade_ms, p.buyer_maker) == (agg.price, agg.trade_ms, agg.buyer_maker)
            for p in parts
        )
    # Each aggTrade follows its last trade in the timeline.
    position = {id(t.event): i for i, t in enumerate(btc.timeline)}
    last_trade_pos = {t.trade_id: position[id(t)] for t in trades}
    assert all(position[id(a)] > last_trade_pos[a.last_trade_id] for a in aggs)


def test_malformed_lines_are_skipped_and_counted(tmp_path, caplog):
    src = tmp_path / "abcusdt_20240101.gz"
    with gzip.open(src, "wt") as handle:
        handle.write(
            '1 {"lastUpdateId":10,"bids":[["1.00000000","2.00000000"]],'
            '"asks":[["2.00000000","1.00000000"]]}\n'
        )
        handle.write("2 {truncated\n")
        handle.write(
            '3 {"stream":"abcusdt@depth@100ms","data":{"e":"depthUpdate","E":5,'
            '"s":"ABCUSDT","U":9,"u":12,"b":[],"a":[["2.00000000","0.00000000"]]}}\n'
        )
    recording = load_recording(tmp_path, "ABCUSDT")
    assert recording.bad_lines == 1
    assert "Skipping malformed line abcusdt_20240101.gz:2" in caplog.text
    assert len(recording.timeline) == 1


def test_missing_recordings_or_snapshot_are_errors(tmp_path):
    with pytest.raises(RecordingError, match="no recordings"):
        load_recording(tmp_path, "BTCUSDT")
    with gzip.open(tmp_path / "xyzusdt_1.gz", "wt") as handle:
        handle.write(
            '1 {"stream":"xyzusdt@trade","data":{"e":"trade","E":1,"s":"XYZUSDT",'
            '"t":1,"p":"1.0","q":"1.0","T":1,"m":true,"M":true}}\n'
        )
    with pytest.raises(RecordingError, match="no REST snapshot"):
        load_recording(tmp_path, "XYZUSDT")


def test_replay_loops_with_a_continuing_diff(eth):
    """A client following Binance's rules stays exact across loops, with ids going forward."""
    start_ms = 1_000_000
    source = ReplaySource([eth], speed=1000.0, start_ms=start_ms)
    snapshot = source.snapshot("ETHUSDT", 5000)
    client = Book()
    client.apply(snapshot.bids, snapshot.asks)
    last_id = snapshot.last_update_id
    first = True
    tops, tickers, checked, transitions = {}, {}, set(), 0
    last_trade_id = 0
    now = start_ms
    while source.replays["ETHUSDT"].loop < 3:
        now += 50
        for event in source.advance(now):
            if isinstance(event, DepthEvent):
                if first:
                    assert event.first_id <= last_id + 1 <= event.last_id
                    first = False
                else:
                    assert event.first_id == last_id + 1
                assert event.event_ms == now
                if len(event.bids) + len(event.asks) > 1500:
                    transitions += 1
                client.apply(event.bids, event.asks)
                last_id = event.last_id
                tops[last_id] = (*client.best_bid(), *client.best_ask())
                if last_id in tickers:  # a bookTicker usually comes before its depth event
                    assert tickers.pop(last_id) == tops[last_id]
                    checked.add(last_id)
            elif isinstance(event, BookTickerEvent):
                ticker = (event.bid_price, event.bid_qty, event.ask_price, event.ask_qty)
                if event.update_id in tops:
                    assert ticker == tops[event.update_id]
                    checked.add(event.update_id)
                else:
                    tickers[event.update_id] = ticker
            elif isinstance(event, TradeEvent):
                assert event.trade_id > last_trade_id
                last_trade_id = event.trade_id
        served = source.snapshot("ETHUSDT", 5000)
        assert served.last_update_id == last_id
        assert served.bids == client.top_bids(5000)
        assert served.asks == client.top_asks(5000)
    assert transitions == 3
    replay = source.replays["ETHUSDT"]
    period, base = replay.update_id_period, replay.first_id
    assert replay.id_shift == 3 * period
    for loop in range(3):  # every checkpoint of the recording, in each full loop
        low = base + loop * period
        assert len({u for u in checked if low <= u < low + period}) == 577
