"""Fault requests and the pending-fault board."""

from __future__ import annotations

import pytest

from simulator.faults import FaultBoard, FaultError, make_fault, parse_fault_option


def test_parse_fault_option():
    fault = parse_fault_option("gap:BTCUSDT:count=2")
    assert (fault.name, fault.symbol, fault.params) == ("gap", "BTCUSDT", {"count": 2.0})
    fault = parse_fault_option("rest_error:status=503,count=1,retry_after=4")
    assert fault.symbol is None
    assert fault.int_param("status", 0) == 503
    assert parse_fault_option("clear").name == "clear"
    assert parse_fault_option("stall:ethusdt").symbol == "ETHUSDT"


@pytest.mark.parametrize(
    ("name", "symbol", "params", "message"),
    [
        ("explode", None, {}, "unknown fault"),
        ("gap", "BTC-USDT", {}, "invalid symbol"),
        ("gap", None, {"seconds": 1}, "takes no parameter"),
        ("stall", None, {"seconds": "soon"}, "must be a number"),
        ("stall", None, {"seconds": -1}, "out of range"),
        ("rest_error", None, {"status": 404}, "status must be one of"),
    ],
)
def test_bad_faults_are_refused(name, symbol, params, message):
    with pytest.raises(FaultError, match=message):
        make_fault(name, symbol, **params)


def test_counts_are_consumed_per_symbol_and_for_any_symbol():
    board = FaultBoard()
    board.add(make_fault("gap", "BTCUSDT", count=2), now=0)
    board.add(make_fault("gap", None), now=0)
    assert board.take_gap("ETHUSDT") is not False  # the symbol-less gap applies to any symbol
    assert [board.take_gap("BTCUSDT") for _ in range(3)] == [True, True, False]
    assert not board.take_gap("ETHUSDT")


def test_rest_faults_queue_in_order():
    board = FaultBoard()
    board.add(make_fault("rest_error", "ETHUSDT", status=503), now=0)
    board.add(make_fault("rest_error", None, status=429, retry_after=3, count=2), now=0)
    assert board.take_rest_error("BTCUSDT") == (429, 3)
    assert board.take_rest_error("ETHUSDT") == (503, 10)
    assert board.take_rest_error("ETHUSDT") == (429, 3)
    assert board.take_rest_error("ETHUSDT") is None
    board.add(make_fault("slow_rest", None, seconds=1.5), now=0)
    assert board.take_slow_rest("X") == 1.5
    assert board.take_slow_rest("X") == 0.0


def test_stall_expires_and_clear_removes_everything():
    board = FaultBoard()
    board.add(make_fault("stall", "BTCUSDT", seconds=2), now=10)
    assert board.stalled({"BTCUSDT"}, 11)
    assert not board.stalled({"ETHUSDT"}, 11)
    assert not board.stalled({"BTCUSDT"}, 12.5)
    board.add(make_fault("stall", None, seconds=2), now=20)
    assert board.stalled(set(), 21)
    board.add(make_fault("malformed", None, count=3), now=20)
    board.add(make_fault("clear"), now=20)
    assert not board.stalled(set(), 21)
    assert not board.take_malformed("BTCUSDT")
    assert board.pending(21) == {
        "gap": {},
        "malformed": {},
        "corrupt_ticker": {},
        "rest_error": [],
        "slow_rest": [],
        "stall": {},
    }
