"""The writer stores one session per symbol: the first, a restarted one, or any once silent."""

from __future__ import annotations

from shared.sessions import MAX_REFUSED, SILENCE, SessionGate


def test_the_first_session_is_accepted_and_a_second_copy_is_refused():
    gate = SessionGate()
    assert gate.admit("BTCUSDT", 1, 100, 0.0)
    assert gate.admit("BTCUSDT", 1, 101, 1.0)
    assert not gate.admit("BTCUSDT", 2, 101, 1.1)  # same second from another process
    assert not gate.admit("BTCUSDT", 2, 99, 1.2)
    assert gate.session("BTCUSDT") == 1


def test_a_restarted_collector_takes_over_with_a_later_first_second():
    gate = SessionGate()
    assert gate.admit("BTCUSDT", 1, 100, 0.0)
    assert gate.admit("BTCUSDT", 2, 103, 2.0)  # restart: its first second is after 100
    assert gate.session("BTCUSDT") == 2
    assert not gate.admit("BTCUSDT", 1, 104, 2.5)  # the old one cannot come back


def test_a_refused_session_cannot_qualify_later_by_a_later_second():
    gate = SessionGate()
    assert gate.admit("BTCUSDT", 1, 100, 0.0)
    assert not gate.admit("BTCUSDT", 9, 100, 0.5)
    assert gate.admit("BTCUSDT", 1, 101, 1.0)
    assert not gate.admit("BTCUSDT", 9, 150, 1.5)  # no flip-flop between two streams
    assert gate.session("BTCUSDT") == 1


def test_any_session_may_take_over_once_the_accepted_one_is_silent():
    gate = SessionGate()
    assert gate.admit("BTCUSDT", 1, 100, 0.0)
    assert not gate.admit("BTCUSDT", 9, 90, 0.5)
    assert gate.admit("BTCUSDT", 9, 90, 0.5 + SILENCE + 0.1)
    assert gate.session("BTCUSDT") == 9


def test_symbols_are_independent_and_memory_is_bounded():
    gate = SessionGate()
    assert gate.admit("BTCUSDT", 1, 100, 0.0)
    assert gate.admit("ETHUSDT", 2, 100, 0.0)
    for session in range(1000, 1000 + 10 * MAX_REFUSED):
        assert not gate.admit("BTCUSDT", session, 50, 0.1)
    assert len(gate._symbols["BTCUSDT"].refused) == MAX_REFUSED
