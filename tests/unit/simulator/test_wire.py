"""Binance wire format, control messages and the pure book helpers."""

from __future__ import annotations

import json

import pytest
from sortedcontainers import SortedDict

from simulator.control import RequestError, error_reply, parse_request, reply
from simulator.instruments import instrument_for, split_assets
from simulator.market import (
    Book,
    DepthEvent,
    Snapshot,
    TradeEvent,
    aggregate_trades,
    merge_depth,
    transition_changes,
)
from simulator.wire import (
    combined_frame,
    depth_payload,
    parse_stream,
    server_shutdown_payload,
    snapshot_payload,
)


def test_parse_stream():
    assert parse_stream("btcusdt@depth@100ms").kind == "depth@100ms"
    assert parse_stream("btcusdt@depth@1000ms").name == "btcusdt@depth"
    assert parse_stream("ethusdt@aggTrade").symbol == "ETHUSDT"
    for bad in ("BTCUSDT@trade", "btcusdt@kline", "btcusdt", "@trade", "btc usdt@trade"):
        assert parse_stream(bad) is None


def test_depth_payload_and_combined_frame():
    event = DepthEvent("BTCUSDT", 10, 12, 1700000000000, [(6183763000000, 0)], [(1, 25)])
    payload = depth_payload(event)
    assert payload == {
        "e": "depthUpdate",
        "E": 1700000000000,
        "s": "BTCUSDT",
        "U": 10,
        "u": 12,
        "b": [["61837.63000000", "0.00000000"]],
        "a": [["0.00000001", "0.00000025"]],
    }
    frame = json.loads(combined_frame("btcusdt@depth@100ms", json.dumps(payload).encode()))
    assert frame == {"stream": "btcusdt@depth@100ms", "data": payload}


def test_snapshot_and_shutdown_payloads():
    snap = json.loads(snapshot_payload(Snapshot(7, [(200000000, 100000000)], [])))
    assert snap == {"lastUpdateId": 7, "bids": [["2.00000000", "1.00000000"]], "asks": []}
    assert json.loads(server_shutdown_payload(5)) == {"e": "serverShutdown", "E": 5}


def test_control_requests():
    request = parse_request('{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":1}')
    assert request.method == "SUBSCRIBE"
    assert request.params == ["btcusdt@trade"]
    assert json.loads(reply(None, 1)) == {"result": None, "id": 1}
    for text, code in [
        ("nope", 3),
        ('{"method":"FOO","id":1}', 2),
        ('{"method":"SUBSCRIBE","params":["x"],"id":1}', 2),
        ('{"method":"GET_PROPERTY","params":["speed"],"id":1}', 0),
        ('{"method":"SET_PROPERTY","params":["combined","yes"],"id":1}', 1),
        ('{"method":"LIST_SUBSCRIPTIONS","id":true}', 2),
    ]:
        with pytest.raises(RequestError) as caught:
            parse_request(text)
        assert caught.value.code == code
        assert json.loads(error_reply(caught.value))["error"]["code"] == code


def test_book_top_and_transition():
    book = Book()
    book.apply([(100, 1), (99, 2), (98, 3)], [(101, 1), (102, 2)])
    assert book.top_bids(2) == [(100, 1), (99, 2)]
    assert book.top_asks(5) == [(101, 1), (102, 2)]
    book.apply([(100, 0), (97, 0)], [])
    assert book.best_bid() == (99, 2)
    assert not book.is_crossed()
    target = SortedDict({99: 5, 95: 1})
    changes = transition_changes(book.bids, target)
    assert changes == [(95, 1), (98, 0), (99, 5)]
    book.apply(changes, [])
    assert book.bids == target


def test_merge_depth_keeps_the_last_value_per_level():
    one = DepthEvent("X", 1, 3, 0, [(10, 1), (9, 1)], [(11, 1)])
    two = DepthEvent("X", 4, 5, 0, [(10, 0)], [(12, 2)])
    merged = merge_depth([one, two], 1000)
    assert (merged.first_id, merged.last_id, merged.event_ms) == (1, 5, 1000)
    assert merged.bids == [(10, 0), (9, 1)]
    assert merged.asks == [(11, 1), (12, 2)]


def test_aggregate_trades_groups_same_time_price_side():
    trades = [
        TradeEvent("X", i, p, 1, t, t, m)
        for i, (p, t, m) in enumerate(
            [(5, 1, True), (5, 1, True), (6, 1, True), (6, 1, False), (6, 2, False)], start=100
        )
    ]
    aggs = aggregate_trades(trades, 7)
    assert [(a.agg_id, a.first_trade_id, a.last_trade_id, a.qty) for a in aggs] == [
        (7, 100, 101, 2),
        (8, 102, 102, 1),
        (9, 103, 103, 1),
        (10, 104, 104, 1),
    ]


def test_instruments():
    btc = instrument_for("BTCUSDT")
    assert (btc.tick, btc.step, btc.base_asset, btc.quote_asset) == (
        1_000_000,
        1_000,
        "BTC",
        "USDT",
    )
    other = instrument_for("FOOBARUSDT")
    assert other == instrument_for("FOOBARUSDT")  # stable across calls and processes
    assert other.ref_price % other.tick == 0
    assert other.ref_qty % other.step == 0
    assert split_assets("ETHBTC") == ("ETH", "BTC")
