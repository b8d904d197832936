"""REST endpoints, weights and injected REST faults, as Binance answers them."""

from __future__ import annotations

import time

import pytest

from tests.integration.simulator.book_client import fetch_json
from tests.support.simulator import simulator_fixture

simulator = simulator_fixture(symbols=("BTCUSDT", "ETHUSDT"), scope="module")


@pytest.fixture(autouse=True)
def _no_leftover_faults(simulator):
    yield
    simulator.fault("clear")


def depth(sim, query):
    return fetch_json(f"{sim.rest_url}/api/v3/depth?{query}")


def test_depth_snapshot_shape(simulator):
    status, headers, body = depth(simulator, "symbol=BTCUSDT&limit=10")
    assert status == 200
    assert set(body) == {"lastUpdateId", "bids", "asks"}
    assert len(body["bids"]) == 10
    assert len(body["asks"]) == 10
    price, qty = body["bids"][0]
    assert len(price.split(".")[1]) == 8
    assert len(qty.split(".")[1]) == 8
    assert float(body["bids"][0][0]) < float(body["asks"][0][0])
    assert int(headers["X-MBX-USED-WEIGHT-1M"]) >= 5


def test_default_limit_is_100_and_large_limits_are_realistic(simulator):
    _, _, body = depth(simulator, "symbol=ETHUSDT")
    assert len(body["bids"]) == 100
    _, _, body = depth(simulator, "symbol=ETHUSDT&limit=1000")
    assert len(body["bids"]) >= 500
    assert len(body["asks"]) >= 500


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("symbol=XXXUSDT", -1121),
        ("limit=5", -1102),
        ("symbol=BTCUSDT&limit=abc", -1100),
        ("symbol=BTCUSDT&limit=0", -1100),
        ("symbol=BTCUSDT&foo=1", -1104),
    ],
)
def test_bad_requests_get_binance_errors(simulator, query, code):
    status, _, body = depth(simulator, query)
    assert status == 400
    assert body["code"] == code
    assert body["msg"]


def test_unknown_symbol_message(simulator):
    assert depth(simulator, "symbol=NOPEUSDT")[2] == {"code": -1121, "msg": "Invalid symbol."}


def test_exchange_info_has_filters(simulator):
    status, _, body = fetch_json(f"{simulator.rest_url}/api/v3/exchangeInfo?symbol=BTCUSDT")
    assert status == 200
    (info,) = body["symbols"]
    assert info["symbol"] == "BTCUSDT"
    assert info["status"] == "TRADING"
    filters = {f["filterType"]: f for f in info["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    _, _, every = fetch_json(f"{simulator.rest_url}/api/v3/exchangeInfo")
    assert {s["symbol"] for s in every["symbols"]} == {"BTCUSDT", "ETHUSDT"}
    listed = fetch_json(f'{simulator.rest_url}/api/v3/exchangeInfo?symbols=["ETHUSDT"]')[2]
    assert [s["symbol"] for s in listed["symbols"]] == ["ETHUSDT"]
    bad = fetch_json(f"{simulator.rest_url}/api/v3/exchangeInfo?symbol=NOPEUSDT")
    assert bad[0] == 400
    assert bad[2]["code"] == -1121


def test_ping(simulator):
    assert fetch_json(f"{simulator.rest_url}/api/v3/ping")[:1] == (200,)
    assert fetch_json(f"{simulator.rest_url}/api/v3/ping")[2] == {}


@pytest.mark.parametrize(
    ("status", "code"), [(429, -1003), (418, -1003), (500, -1000), (503, -1008)]
)
def test_rest_error_fault(simulator, status, code):
    simulator.fault("rest_error", symbol="BTCUSDT", status=status, retry_after=7, count=1)
    got, headers, body = depth(simulator, "symbol=BTCUSDT")
    assert got == status
    assert body["code"] == code
    if status in (429, 418):
        assert headers["Retry-After"] == "7"
    assert depth(simulator, "symbol=BTCUSDT")[0] == 200  # count=1: only the next request


def test_rest_error_fault_for_another_symbol_waits(simulator):
    simulator.fault("rest_error", symbol="ETHUSDT", status=503)
    assert depth(simulator, "symbol=BTCUSDT")[0] == 200
    assert depth(simulator, "symbol=ETHUSDT")[0] == 503


def test_slow_rest_fault(simulator):
    simulator.fault("slow_rest", seconds=1.5, count=1)
    started = time.monotonic()
    assert depth(simulator, "symbol=BTCUSDT")[0] == 200
    assert time.monotonic() - started >= 1.5
    started = time.monotonic()
    assert depth(simulator, "symbol=BTCUSDT")[0] == 200
    assert time.monotonic() - started < 1.0


def test_admin_refuses_bad_faults(simulator):
    for body in (
        {"fault": "explode"},
        {"fault": "gap", "count": "x"},
        {"fault": "gap", "symbol": "NOPEUSDT"},
        {"fault": "rest_error", "status": 404},
    ):
        with pytest.raises(AssertionError, match="refused"):
            simulator.fault(**{"name" if k == "fault" else k: v for k, v in body.items()})
    state = simulator.state()
    assert set(state["symbols"]) == {"BTCUSDT", "ETHUSDT"}
    assert state["symbols"]["BTCUSDT"]["last_update_id"] > 0
