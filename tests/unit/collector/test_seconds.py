"""The second rule: capture at the boundary, send at boundary + grace, trades by trade time T."""

from __future__ import annotations

from collector.seconds import Capture, SecondAssembler
from shared.model import Trade


def trade(agg_id: int, ts_ms: int) -> Trade:
    return Trade(agg_id, 100, 1, ts_ms, False)


def capture(second: int) -> Capture:
    return Capture(second, second * 10, second * 1000, second * 1000, ((2, 1),), ((3, 1),))


def test_record_of_a_second_carries_its_trades_including_ones_arriving_in_the_grace():
    seconds = SecondAssembler(now=1000.2, grace=0.25)
    seconds.add_trade(trade(1, 1000_500))
    seconds.add_trade(trade(2, 1001_100))  # belongs to second 1001

    assert seconds.boundary_due(1001.0)
    seconds.on_boundary(1001.0, capture)
    seconds.add_trade(trade(3, 1000_999))  # arrives 0.1 s after the boundary: still in time
    assert seconds.completed(1001.2) == []
    done = seconds.completed(1001.25)

    assert [d.capture.second for d in done] == [1000]
    assert [t.agg_id for t in done[0].trades] == [1, 3]
    assert seconds.next_boundary == 1002


def test_a_trade_after_its_record_was_sent_is_late_and_dropped():
    seconds = SecondAssembler(now=1000.0, grace=0.25)
    seconds.on_boundary(1001.0, capture)
    seconds.completed(1001.3)

    assert not seconds.add_trade(trade(9, 1000_900))
    assert seconds.late_trades == 1


def test_unsynced_second_gives_no_record_and_its_trades_are_counted():
    seconds = SecondAssembler(now=1000.0, grace=0.25)
    seconds.add_trade(trade(1, 1000_100))
    seconds.on_boundary(1001.0, lambda second: None)

    assert seconds.completed(1001.5) == []
    assert seconds.unrecorded_trades == 1


def test_a_held_up_loop_captures_only_the_latest_second():
    seconds = SecondAssembler(now=1000.0, grace=0.25)

    skipped = seconds.on_boundary(1003.1, capture)
    done = seconds.completed(1003.4)

    assert skipped == 2
    assert [d.capture.second for d in done] == [1002]
    assert seconds.skipped_seconds == 2


def test_consecutive_boundaries_give_consecutive_records():
    seconds = SecondAssembler(now=999.5, grace=0.1)
    sent = []
    for tick in range(1000, 1010):
        seconds.on_boundary(tick + 0.01, capture)
        sent += [d.capture.second for d in seconds.completed(tick + 0.2)]

    assert sent == list(range(999, 1009))
