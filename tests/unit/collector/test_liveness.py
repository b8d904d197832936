"""Vouching for ended seconds: by a later frame, by the pong to a later ping, or not at all."""

from __future__ import annotations

import math

import pytest

from collector.liveness import Liveness, Verdict


def test_a_frame_after_the_batch_is_due_vouches_without_a_ping():
    live = Liveness(ping_after=0.1, pong_timeout=1.0)
    live.expect(100)  # second 100 ended at 101.0; its closing batch is due at 101.1
    live.on_frame(101.05)  # too early: may have been sent before the batch

    assert live.verdict(100, 101.08) is Verdict.WAIT
    live.on_frame(101.15)
    assert live.ping(101.15) is None
    assert live.verdict(100, 101.15) is Verdict.VOUCHED


def test_the_pong_to_a_ping_sent_after_the_due_time_vouches():
    live = Liveness(ping_after=0.1, pong_timeout=1.0)
    live.expect(100)

    assert live.ping(101.05) is None  # not due yet
    payload = live.ping(101.1)
    assert payload is not None
    assert live.ping(101.2) is None  # one ping per second is enough
    assert live.verdict(100, 101.3) is Verdict.WAIT
    live.on_pong(b"not ours")
    assert live.verdict(100, 101.3) is Verdict.WAIT
    live.on_pong(payload)
    assert live.verdict(100, 101.3) is Verdict.VOUCHED


def test_an_unanswered_ping_makes_the_second_stale_after_the_timeout():
    live = Liveness(ping_after=0.1, pong_timeout=0.5)
    live.expect(100)
    assert live.ping(101.1) is not None

    assert live.verdict(100, 101.59) is Verdict.WAIT
    assert live.verdict(100, 101.6) is Verdict.STALE
    assert live.next_deadline() == 101.6


def test_a_late_pong_for_a_later_ping_vouches_for_every_earlier_second():
    live = Liveness(ping_after=0.1, pong_timeout=1.0)
    live.expect(100)
    first = live.ping(101.1)
    live.expect(101)
    second = live.ping(102.1)
    assert first
    assert second

    live.on_pong(second)  # answers the older ping too
    assert live.verdict(100, 102.2) is Verdict.VOUCHED
    assert live.verdict(101, 102.2) is Verdict.VOUCHED
    live.on_pong(first)  # forgotten: changes nothing
    assert live.pongs == 1


def test_after_a_handover_the_new_connection_vouches_and_is_pinged_anew():
    live = Liveness(ping_after=0.1, pong_timeout=1.0)
    live.expect(100)
    old = live.ping(101.1)
    assert old is not None

    live.connection_replaced()  # promoted only once it caught up with the book
    assert live.verdict(100, 101.2) is Verdict.WAIT
    fresh = live.ping(101.2)  # the old connection's ping will never be answered
    assert fresh is not None
    live.on_pong(fresh)
    assert live.verdict(100, 101.3) is Verdict.VOUCHED


def test_a_new_connection_cannot_vouch_for_what_the_old_one_owed():
    live = Liveness(ping_after=0.1, pong_timeout=1.0)
    live.expect(100)
    old = live.ping(101.1)
    assert old is not None

    live.connection_changed()
    live.on_frame(101.3)  # from the new connection
    live.on_pong(old)
    assert live.verdict(100, 101.3) is Verdict.STALE
    live.expect(101)
    live.on_frame(102.2)
    assert live.verdict(101, 102.2) is Verdict.VOUCHED


def test_with_a_ping_wait_the_ping_goes_out_only_when_no_frame_came_by_then():
    live = Liveness(ping_after=0.1, pong_timeout=1.0, ping_wait=0.15)
    live.expect(100)  # due at 101.1, pinged at 101.25 unless a frame vouches first

    assert live.next_deadline() == pytest.approx(101.25)
    assert live.ping(101.2) is None
    assert live.ping(101.25) is not None
    assert live.next_deadline() == pytest.approx(102.1)  # the pong may take until due + timeout

    live.expect(101)
    live.on_frame(102.15)  # a frame after the due time vouches: no ping, no wake-up for one
    assert live.ping(102.25) is None
    assert live.next_deadline() == math.inf
