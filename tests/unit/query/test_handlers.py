"""Parameter validation of every method, before any data is read (no database exists here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from query.analytics import ParameterError
from query.handlers import DbHandlers
from query.live import LiveBooks
from query.live_handlers import LiveHandlers
from query.reader import NoDataYet, SecondaryReader
from shared.methods import METHODS
from shared.protocol import NOT_FOUND, RequestError
from tests.support.clock import FakeClock

NOW = 1_795_478_400.25


@pytest.fixture
def handlers(tmp_path: Path) -> DbHandlers:
    reader = SecondaryReader(tmp_path / "data" / "rocksdb", tmp_path / "secondary")
    return DbHandlers(reader, FakeClock(NOW, monotonic=0.0))


@pytest.fixture
def live_handlers() -> LiveHandlers:
    return LiveHandlers(
        LiveBooks(FakeClock(NOW, monotonic=0.0), ("BTCUSDT", "ETHUSDT")),
        FakeClock(NOW, monotonic=0.0),
    )


def test_every_method_has_exactly_one_handler(handlers, live_handlers):
    assert set(handlers.methods) == {m.name for m in METHODS if m.source == "db"}
    assert set(live_handlers.methods) == {m.name for m in METHODS if m.source == "live"}
    assert len(METHODS) == 11


@pytest.mark.parametrize(
    ("method", "params", "param"),
    [
        ("get_order_flow", {}, "symbol"),
        ("get_order_flow", {"symbol": "BTC-USDT"}, "symbol"),
        ("get_order_flow", {"symbol": 5}, "symbol"),
        (
            "get_order_flow",
            {"symbol": "BTCUSDT", "window_duration_secs": 9},
            "window_duration_secs",
        ),
        (
            "get_order_flow",
            {"symbol": "BTCUSDT", "window_duration_secs": 301},
            "window_duration_secs",
        ),
        (
            "get_order_flow",
            {"symbol": "BTCUSDT", "window_duration_secs": True},
            "window_duration_secs",
        ),
        ("get_order_flow", {"symbol": "BTCUSDT", "end": "tomorrow"}, "end"),
        ("get_order_flow", {"symbol": "BTCUSDT", "end": int(NOW) + 60}, "end"),
        ("get_order_flow", {"symbol": "BTCUSDT", "windw": 60}, "windw"),
        (
            "get_microstructure_health",
            {"symbol": "BTCUSDT", "window_duration_secs": "x"},
            "window_duration_secs",
        ),
        ("detect_market_anomalies", {"symbol": "x" * 60_000}, "symbol"),
        ("get_volume_profile", {"symbol": "ETHUSDT", "duration_hours": 0}, "duration_hours"),
        ("get_volume_profile", {"symbol": "ETHUSDT", "duration_hours": 169}, "duration_hours"),
        ("get_volume_profile", {"symbol": "ETHUSDT", "tick_size": "-1"}, "tick_size"),
        ("get_volume_profile", {"symbol": "ETHUSDT", "tick_size": "0.000000001"}, "tick_size"),
        ("get_liquidity_vacuums", {"symbol": "BTCUSDT", "duration_hours": 25}, "duration_hours"),
        ("get_liquidity_vacuums", {"symbol": "BTCUSDT", "threshold": 1.5}, "threshold"),
        ("query_snapshots", {"symbol": "BTCUSDT"}, "start"),
        ("query_snapshots", {"symbol": "BTCUSDT", "start": 100, "end": 50}, "end"),
        ("query_snapshots", {"symbol": "BTCUSDT", "start": 100, "limit": 0}, "limit"),
        ("query_snapshots", {"symbol": "BTCUSDT", "start": 100, "limit": 100_000}, "limit"),
        ("query_snapshots", {"symbol": "BTCUSDT", "start": 100, "trades": "yes"}, "trades"),
        ("coverage", {"symbol": "BTCUSDT", "duration_hours": 500}, "duration_hours"),
        ("coverage", {"symbol": "BTCUSDT", "start": 1, "duration_hours": 1}, "duration_hours"),
        ("coverage", {"symbol": "BTCUSDT", "start": 0, "end": 10_000_000}, "start"),
        ("status", {"verbose": True}, "verbose"),
    ],
)
def test_db_methods_reject_bad_params_before_reading(handlers, method, params, param):
    with pytest.raises(ParameterError) as caught:
        handlers.methods[method](params, {})

    assert caught.value.param == param


@pytest.mark.parametrize(
    ("method", "params", "param"),
    [
        ("orderbook_l1", {}, "symbol"),
        ("orderbook_l1", {"symbol": "BTCUSDT", "levels": 5}, "levels"),
        ("orderbook_l2", {"symbol": "BTCUSDT", "levels": 0}, "levels"),
        ("orderbook_l2", {"symbol": "BTCUSDT", "levels": 101}, "levels"),
        ("orderbook_l2", {"symbol": "BTCUSDT", "levels": 2.5}, "levels"),
    ],
)
def test_live_methods_reject_bad_params(live_handlers, method, params, param):
    with pytest.raises(ParameterError) as caught:
        live_handlers.methods[method](params)

    assert caught.value.param == param


def test_valid_request_without_database_says_no_data_yet(handlers, tmp_path):
    with pytest.raises(NoDataYet, match=r"writer has not created .*rocksdb yet"):
        handlers.methods["get_order_flow"]({"symbol": "btcusdt"}, {})


def test_l1_of_a_symbol_never_received_is_not_found(live_handlers):
    with pytest.raises(RequestError) as caught:
        live_handlers.methods["orderbook_l1"]({"symbol": "BTCUSDT"})

    assert caught.value.code == NOT_FOUND


def test_status_answers_without_a_database(handlers):
    result = handlers.methods["status"]({}, {"live": {}, "invalid": 3})

    assert result["database"]["open"] is False
    assert "has not created" in result["database"]["error"]
    assert result["live_invalid_messages"] == 3
