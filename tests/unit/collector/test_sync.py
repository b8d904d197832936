"""Binance's local-book rules: buffering, stale snapshots, the straddle rule, gaps, crossing."""

from __future__ import annotations

import pytest

from collector.sync import BookSync, Phase, SnapshotVerdict
from collector.wire import DepthSnapshot, DepthUpdate, parse_frame, parse_levels, parse_snapshot
from shared.errors import BookGap
from tests.unit.collector.fixtures import fixture, frame

P = 100_000_000  # 1.0 scaled


def gap_sequence() -> tuple[DepthSnapshot, list[DepthUpdate], dict]:
    data = fixture("gap_sequence.json")
    snapshot = parse_snapshot(frame(data["snapshot"]))
    events = [parse_frame(frame(e)) for e in data["events"]]
    assert all(isinstance(e, DepthUpdate) for e in events)
    return snapshot, events, data["book_after_event_3"]  # type: ignore[return-value]


def ev(first: int, last: int, bids=(), asks=()) -> DepthUpdate:
    return DepthUpdate(E=1, s="BTCUSDT", U=first, u=last, b=list(bids), a=list(asks))


def test_gap_sequence_syncs_then_raises_on_the_gap():
    snapshot, events, book_after = gap_sequence()
    sync = BookSync()
    for event in events[:2]:
        sync.on_event(event)

    assert sync.on_snapshot(snapshot) is SnapshotVerdict.ACCEPTED
    assert sync.stats.dropped == 1  # u=99 <= lastUpdateId 100
    assert sync.synced
    assert sync.update_id == 102
    sync.on_event(events[2])
    bids, asks = sync.book.top(10)
    assert bids == tuple(parse_levels(book_after["bids"]))
    assert asks == tuple(parse_levels(book_after["asks"]))
    assert bids[1] == (995 * P // 10, 4 * P)

    with pytest.raises(BookGap, match="expected U=106"):
        sync.on_event(events[3])
    assert sync.phase is Phase.BUFFERING
    assert sync.buffered == 1  # the event that revealed the gap starts the new buffer
    assert sync.stats.gaps == 1


def test_stale_snapshot_is_refused_until_a_newer_one_comes():
    sync = BookSync()
    sync.on_event(ev(200, 205))

    assert sync.on_snapshot(DepthSnapshot(150, [(P, P)], [(2 * P, P)])) is SnapshotVerdict.STALE
    assert sync.phase is Phase.BUFFERING
    assert sync.wants_snapshot()
    # lastUpdateId + 1 == first U is continued exactly by the first event: accepted.
    assert sync.on_snapshot(DepthSnapshot(199, [(P, P)], [(2 * P, P)])) is SnapshotVerdict.ACCEPTED
    assert sync.synced
    assert sync.update_id == 205


def test_snapshot_before_any_event_is_early():
    assert BookSync().on_snapshot(DepthSnapshot(1, [], [])) is SnapshotVerdict.EARLY


def test_first_event_must_straddle_the_snapshot():
    sync = BookSync()
    sync.on_event(ev(90, 95))
    sync.on_event(ev(97, 99))  # a gap inside the buffer: 96 is missing

    with pytest.raises(BookGap, match="does not straddle"):
        sync.on_snapshot(DepthSnapshot(95, [(P, P)], [(2 * P, P)]))
    assert sync.phase is Phase.BUFFERING


def test_snapshot_newer_than_the_buffer_waits_for_the_straddling_event():
    sync = BookSync()
    sync.on_event(ev(10, 12))

    assert sync.on_snapshot(DepthSnapshot(20, [(P, P)], [(2 * P, P)])) is SnapshotVerdict.ACCEPTED
    assert sync.phase is Phase.STRADDLE
    assert not sync.synced
    assert not sync.on_event(ev(15, 20))  # u <= lastUpdateId: dropped
    assert sync.on_event(ev(18, 22, bids=[(P, 3 * P)]))
    assert sync.synced
    assert sync.book.best_bid() == (P, 3 * P)


def test_event_after_snapshot_that_skips_lastupdateid_plus_one_is_a_gap():
    sync = BookSync()
    sync.on_event(ev(10, 12))
    sync.on_snapshot(DepthSnapshot(20, [(P, P)], [(2 * P, P)]))

    with pytest.raises(BookGap, match="does not straddle"):
        sync.on_event(ev(22, 25))


def test_crossed_book_raises_and_resets():
    sync = BookSync()
    sync.on_event(ev(5, 6))
    sync.on_snapshot(DepthSnapshot(5, [(P, P)], [(2 * P, P)]))

    with pytest.raises(BookGap, match="crossed"):
        sync.on_event(ev(7, 7, bids=[(2 * P, P)]))
    assert sync.phase is Phase.BUFFERING
    assert sync.buffered == 0


def test_duplicates_are_dropped_and_overlaps_applied():
    sync = BookSync()
    sync.on_event(ev(5, 6))
    sync.on_snapshot(DepthSnapshot(5, [(P, P)], [(2 * P, P)]))

    assert not sync.on_event(ev(5, 6))
    assert sync.on_event(ev(6, 8, bids=[(P, 5 * P)]))  # U <= id < u: absolute values, exact
    assert sync.stats.duplicates == 1
    assert sync.stats.overlaps == 1
    assert sync.update_id == 8


def test_buffer_cap_keeps_the_newest_events():
    sync = BookSync(buffer_cap=10)
    for i in range(25):
        sync.on_event(ev(10 * i + 1, 10 * i + 10))

    assert sync.buffered == 10
    assert sync.stats.overflow == 15
    assert sync.first_buffered == 151


def test_crossing_event_on_a_synced_book_raises_and_resets():
    sync = BookSync()
    sync.on_event(ev(5, 6))
    sync.on_snapshot(DepthSnapshot(5, [(P, P)], [(2 * P, P)]))
    assert sync.on_event(ev(7, 7, bids=[(P, 2 * P)]))  # synced now: the inlined path

    with pytest.raises(BookGap, match="crossed book after u=8"):
        sync.on_event(ev(8, 8, asks=[(P, P)]))
    assert sync.phase is Phase.BUFFERING
    assert sync.stats.gaps == 1


def test_synced_event_with_u_before_u_first_is_not_applied():
    sync = BookSync()
    sync.on_event(ev(5, 6))
    sync.on_snapshot(DepthSnapshot(5, [(P, P)], [(2 * P, P)]))

    assert not sync.on_event(ev(7, 6, bids=[(P, 9 * P)]))  # only a hand-built event can do this
    assert sync.book.best_bid() == (P, P)
    assert sync.stats.duplicates == 1
