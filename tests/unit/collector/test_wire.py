"""Parsing of Binance frames and REST bodies, driven by one fixture file per message shape."""

from __future__ import annotations

import pytest

from collector.wire import (
    AggTrade,
    DepthUpdate,
    Ignored,
    MalformedFrame,
    ServerShutdown,
    parse_frame,
    parse_levels,
    parse_snapshot,
)
from tests.unit.collector.fixtures import fixture, fixture_text, frame


def test_depth_update_parses_with_exact_scaled_levels():
    event = parse_frame(fixture_text("depth_update.json"))

    assert isinstance(event, DepthUpdate)
    assert (event.s, event.U, event.u, event.E) == (
        "BTCUSDT",
        50093239189,
        50093239202,
        1723161255208,
    )
    assert event.b[0] == (6173763000000, 0)
    assert event.a[0] == (6183764000000, 154698000)


def test_agg_trade_parses():
    trade = parse_frame(fixture_text("agg_trade.json"))

    assert trade == AggTrade(
        E=1723161255343,
        s="BTCUSDT",
        a=3012345678,
        p=6183763000000,
        q=2000000,
        f=3735683259,
        l=3735683260,
        T=1723161255342,
        m=True,
    )


def test_server_shutdown_and_subscription_reply():
    assert parse_frame(fixture_text("server_shutdown.json")) == ServerShutdown(E=1723161255400)
    assert isinstance(parse_frame(fixture_text("subscription_reply.json")), Ignored)


def test_raw_stream_frame_without_wrapper_parses():
    data = fixture("depth_update.json")["data"]

    assert isinstance(parse_frame(frame(data)), DepthUpdate)


def test_rest_depth_parses_best_first():
    snap = parse_snapshot(fixture_text("rest_depth.json").encode())

    assert snap.lastUpdateId == 50093239218
    assert len(snap.bids) == len(snap.asks) == 5
    assert snap.bids[0][0] > snap.bids[1][0]
    assert snap.asks[0][0] < snap.asks[1][0]


@pytest.mark.parametrize("index", range(len(fixture("malformed_frames.json"))))
def test_every_malformed_frame_raises_a_clear_error(index):
    text = fixture("malformed_frames.json")[index]

    with pytest.raises(MalformedFrame) as info:
        parse_frame(text)

    assert str(info.value)


@pytest.mark.parametrize(
    "body",
    [
        b"nope",
        b"[]",
        b'{"bids": [], "asks": []}',
        b'{"lastUpdateId": 1, "bids": [["1.0", "0.0"]], "asks": []}',
        fixture_text("rest_error_invalid_symbol.json").encode(),
    ],
)
def test_malformed_rest_depth_raises(body):
    with pytest.raises(MalformedFrame):
        parse_snapshot(body)


def test_largest_binance_value_is_exact_and_one_more_is_rejected():
    assert parse_levels([["92233720368.54775807", "0.00000001"]]) == [(2**63 - 1, 1)]
    with pytest.raises(ValueError, match="out of range"):
        parse_levels([["92233720368.54775808", "1.00000000"]])


def test_short_decimals_take_the_slow_exact_path():
    assert parse_levels([["1.5", "2"]]) == [(150000000, 200000000)]
