"""Gap detection: lost sequence numbers and missing seconds become fetchable ranges."""

from __future__ import annotations

from shared.backfill import MAX_FETCH_SECONDS
from writer.gaps import Gap, GapDetector, fetch_ranges, find_holes


def test_consecutive_records_have_no_gap():
    gaps = GapDetector()
    assert [gaps.observe("BTCUSDT", 100 + i, 1, 1 + i) for i in range(5)] == [None] * 5


def test_a_lost_record_is_a_gap_of_its_second():
    gaps = GapDetector()
    gaps.observe("BTCUSDT", 100, 1, 1)
    assert gaps.observe("BTCUSDT", 103, 1, 4) == Gap("BTCUSDT", 101, 102, lost_seq=2)


def test_symbols_are_tracked_separately():
    gaps = GapDetector()
    gaps.observe("BTCUSDT", 100, 1, 1)
    assert gaps.observe("ETHUSDT", 105, 1, 1) is None
    assert gaps.observe("BTCUSDT", 101, 1, 2) is None


def test_a_restart_of_the_writer_is_seen_through_the_seeded_last_second():
    gaps = GapDetector()
    gaps.seed("BTCUSDT", 100)
    assert gaps.observe("BTCUSDT", 110, 5, 50) == Gap("BTCUSDT", 101, 109, lost_seq=0)


def test_a_new_collector_session_resets_the_sequence_but_not_the_seconds():
    gaps = GapDetector()
    gaps.observe("BTCUSDT", 100, 1, 500)
    assert gaps.observe("BTCUSDT", 104, 2, 1) == Gap("BTCUSDT", 101, 103, lost_seq=0)
    assert gaps.observe("BTCUSDT", 105, 2, 2) is None


def test_lost_sequence_numbers_without_missing_seconds_are_reported_with_no_range():
    gaps = GapDetector()
    gaps.observe("BTCUSDT", 100, 1, 1)
    gap = gaps.observe("BTCUSDT", 101, 1, 5)
    assert gap is not None
    assert gap.lost_seq == 3
    assert gap.seconds == 0
    assert fetch_ranges(gap, 0) == []


def test_duplicates_and_late_records_are_no_gap():
    gaps = GapDetector()
    gaps.observe("BTCUSDT", 100, 1, 1)
    gaps.observe("BTCUSDT", 101, 1, 2)
    assert gaps.observe("BTCUSDT", 101, 1, 2) is None
    assert gaps.observe("BTCUSDT", 99, 1, 2) is None
    assert gaps.last_second("BTCUSDT") == 101


def test_behind_reports_what_a_collector_buffer_holds_beyond_the_writer():
    gaps = GapDetector()
    gaps.seed("BTCUSDT", 100)
    assert gaps.behind("BTCUSDT", 102) is None  # probably still in flight
    assert gaps.behind("BTCUSDT", 150) == Gap("BTCUSDT", 101, 150)
    assert gaps.behind("ETHUSDT", 150) is None


def test_advance_accounts_for_backfilled_seconds():
    gaps = GapDetector()
    gaps.seed("BTCUSDT", 100)
    gaps.advance("BTCUSDT", 120)
    assert gaps.observe("BTCUSDT", 121, 1, 1) is None


def test_fetch_ranges_split_long_gaps_and_skip_too_old_seconds():
    gap = Gap("BTCUSDT", 1000, 1000 + 2 * MAX_FETCH_SECONDS)
    ranges = fetch_ranges(gap, oldest_allowed=1500)
    assert ranges[0] == (1500, 1500 + MAX_FETCH_SECONDS - 1)
    assert ranges[-1][1] == gap.last
    assert all(last - first < MAX_FETCH_SECONDS for first, last in ranges)
    assert sum(last - first + 1 for first, last in ranges) == gap.last - 1500 + 1


def test_holes_between_stored_seconds():
    assert find_holes("BTCUSDT", [10, 11, 14, 15, 17]) == [
        Gap("BTCUSDT", 12, 13),
        Gap("BTCUSDT", 16, 16),
    ]
    assert find_holes("BTCUSDT", []) == []
    assert find_holes("BTCUSDT", [5]) == []
