"""SecondaryReader against a real RocksDB primary in tmp_path."""

from __future__ import annotations

import dataclasses

import pytest

from query import handlers as handlers_module
from query.handlers import DbHandlers
from query.reader import NoDataYet, SecondaryReader, TooMuchData
from shared import storage
from shared.clock import SystemClock
from shared.codec import encode, record_key
from tests.integration.query.dbdata import Primary, synthetic_snapshot

T0 = 1_795_478_400


@pytest.fixture
def reader(tmp_path):
    reader = SecondaryReader(
        storage.db_path(tmp_path / "data"), tmp_path / "secondary", retry_seconds=0.05
    )
    yield reader
    reader.close()


def test_no_database_yet_then_open_once_the_writer_creates_it(tmp_path, reader):
    with pytest.raises(NoDataYet, match="writer has not created"):
        reader.refresh()

    primary = Primary(tmp_path / "data")
    primary.store(["BTCUSDT"], range(T0, T0 + 5))
    reader._last_attempt = float("-inf")  # skip the retry pause
    reader.refresh()

    assert reader.count("BTCUSDT", T0, T0 + 10) == 5
    primary.close()


def test_window_reads_are_inclusive_ascending_and_per_symbol(tmp_path, reader):
    primary = Primary(tmp_path / "data")
    primary.store(["BTCUSDT", "BTCUSDTX", "ETHUSDT"], range(T0, T0 + 100))
    reader.refresh()

    snaps = reader.snapshots("BTCUSDT", T0 + 10, T0 + 20, limit=1000)
    trades = reader.trades("BTCUSDT", T0 + 10, T0 + 20)

    assert [s.second for s in snaps] == list(range(T0 + 10, T0 + 21))
    assert {s.symbol for s in snaps} == {"BTCUSDT"}
    assert snaps[0].bids == synthetic_snapshot("BTCUSDT", T0 + 10).bids
    assert sorted(trades) == list(range(T0 + 10, T0 + 21))
    assert trades[T0 + 10] == synthetic_snapshot("BTCUSDT", T0 + 10).trades
    assert len(reader.snapshots("BTCUSDT", T0, T0 + 99, limit=7)) == 7
    assert reader.snapshots("BTCUSDT", T0 + 200, T0 + 300, limit=10) == []
    primary.close()


def test_new_seconds_are_visible_after_refresh_and_survive_writer_restart(tmp_path, reader):
    primary = Primary(tmp_path / "data")
    primary.store(["BTCUSDT"], range(T0, T0 + 10))
    reader.refresh()
    primary.store(["BTCUSDT"], range(T0 + 10, T0 + 20))
    reader.refresh()
    assert reader.last_second("BTCUSDT") == T0 + 19

    primary.close()  # the writer stops ...
    reader.refresh()
    primary = Primary(tmp_path / "data")  # ... and starts again
    primary.store(["BTCUSDT"], range(T0 + 20, T0 + 30))
    reader.refresh()

    assert reader.count("BTCUSDT", T0, T0 + 100) == 30
    primary.close()


def test_missing_ranges_and_counts_from_keys(tmp_path, reader):
    primary = Primary(tmp_path / "data")
    stored = [s for s in range(T0, T0 + 100) if not (20 <= s - T0 < 30 or s - T0 == 50)]
    primary.store(["BTCUSDT"], stored)
    reader.refresh()

    count, ranges, missing = reader.missing_ranges("BTCUSDT", T0 - 5, T0 + 104, max_ranges=10)

    assert count == 89
    assert ranges == 4
    assert missing == [
        (T0 - 5, T0 - 1),
        (T0 + 20, T0 + 29),
        (T0 + 50, T0 + 50),
        (T0 + 100, T0 + 104),
    ]
    assert reader.missing_ranges("BTCUSDT", T0, T0 + 99, max_ranges=1)[1:] == (
        2,
        [(T0 + 20, T0 + 29)],
    )
    assert reader.symbols() == ["BTCUSDT"]
    assert reader.size_bytes() > 0
    primary.close()


def test_loading_more_levels_than_the_budget_is_refused(tmp_path, reader):
    primary = Primary(tmp_path / "data")
    primary.store(["BTCUSDT"], range(T0, T0 + 10))
    reader.refresh()

    with pytest.raises(TooMuchData, match="shorter period"):
        reader.snapshots("BTCUSDT", T0, T0 + 9, limit=100, max_levels=100)  # 40 levels each
    primary.close()


def test_query_snapshots_pages_by_count_and_by_levels(tmp_path, reader, monkeypatch):
    primary = Primary(tmp_path / "data")
    primary.store(["BTCUSDT"], range(T0, T0 + 10))
    handlers = DbHandlers(reader, SystemClock())

    page = handlers.methods["query_snapshots"]({"symbol": "BTCUSDT", "start": T0, "limit": 4}, {})
    assert (page["count"], page["next_start"]) == (4, T0 + 4)

    monkeypatch.setattr(handlers_module, "MAX_REPLY_LEVELS", 100)  # 2.5 books of 2 x 20 levels
    page = handlers.methods["query_snapshots"]({"symbol": "BTCUSDT", "start": T0}, {})
    assert (page["count"], page["next_start"]) == (2, T0 + 2)
    page = handlers.methods["query_snapshots"]({"symbol": "BTCUSDT", "start": T0, "levels": 5}, {})
    assert (page["count"], page["next_start"]) == (10, None)
    assert len(page["snapshots"][0]["bids"]) == 5
    primary.close()


def test_cached_windows_are_reused_until_the_writer_rewrites_a_second(tmp_path, reader):
    primary = Primary(tmp_path / "data")
    primary.store(["BTCUSDT"], range(T0, T0 + 10))
    reader.refresh()
    first = reader.snapshots("BTCUSDT", T0, T0 + 9, limit=100, cached=True)
    trades = reader.trades("BTCUSDT", T0, T0 + 9)
    again = reader.snapshots("BTCUSDT", T0, T0 + 9, limit=100, cached=True)
    assert all(a is b for a, b in zip(first, again, strict=True))
    assert reader.trades("BTCUSDT", T0, T0 + 9) == trades
    assert reader.snapshot_cache.hits == 10
    assert reader.trades_cache.hits == 10

    # A later record for T0 + 5 (a collector restart's second session) replaces the stored one.
    newer = dataclasses.replace(synthetic_snapshot("BTCUSDT", T0 + 5), session=2, seq=1, trades=())
    assert primary.db is not None
    family = primary.db.get_column_family(storage.SNAPSHOTS_CF)
    family[record_key("BTCUSDT", T0 + 5)] = encode(newer.book)
    del family
    reader.refresh()
    after = reader.snapshots("BTCUSDT", T0, T0 + 9, limit=100, cached=True)
    assert after[5] == newer.book
    assert after[5].session == 2
    assert [s.session for s in after] == [1] * 5 + [2] + [1] * 4
    primary.close()


def test_refresh_catches_up_only_when_the_primary_wrote_something(tmp_path, reader, monkeypatch):
    primary = Primary(tmp_path / "data")
    primary.store(["BTCUSDT"], range(T0, T0 + 5))
    reader.refresh()
    catch_ups: list[int] = []
    real = reader._catch_up
    monkeypatch.setattr(reader, "_catch_up", lambda: catch_ups.append(1) or real())

    reader.refresh()
    reader.refresh()
    assert catch_ups == []  # nothing written since the open: nothing to catch up
    before = storage.change_signature(reader.db_path)
    primary.store(["BTCUSDT"], range(T0 + 5, T0 + 6))
    assert storage.change_signature(reader.db_path) != before
    reader.refresh()
    assert catch_ups == [1]
    assert reader.last_second("BTCUSDT") == T0 + 5

    monkeypatch.setattr("query.reader.CATCH_UP_AT_LEAST_EVERY", 0.0)
    reader.refresh()  # unchanged, but the bound forces one anyway
    assert catch_ups == [1, 1]
    primary.close()
    assert storage.change_signature(tmp_path / "nowhere") == ()
