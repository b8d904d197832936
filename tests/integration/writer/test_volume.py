"""Volume aggregates: written with the trades, never double-counted, and the query's volume
profile read from them equals the one computed from raw trades (real-recording books).
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import msgspec
import pytest

from query import analytics
from query.handlers import DbHandlers
from query.reader import SecondaryReader
from query.volume_reader import volume_rows
from shared import storage
from shared.codec import record_key
from shared.volume import HOUR, MINUTE, Volume
from tests.integration.writer.recorded import recorded, retimed
from tests.support.clock import FakeClock
from tests.support.seconds import Second
from writer.store import SnapshotStore
from writer.volume import HOUR_GRACE, MINUTE_GRACE

BASE = 1_795_000_000 - 1_795_000_000 % HOUR  # an hour boundary (UTC)
FIRST = BASE - 1234  # so the data starts mid-minute, mid-hour
CLOSING = BASE + MINUTE + MINUTE_GRACE  # the first second at which BASE's minute is written


def book(second: int, variant: int = 0, symbol: str = "BTCUSDT") -> Second:
    """A real recorded second moved to ``second``; ``variant`` picks another recorded second."""
    books = recorded(symbol)
    return retimed(books[(second * 7 + variant * 131) % len(books)], second, 1, second)


def write(store: SnapshotStore, snaps: list[Second], batch: int) -> None:
    for i in range(0, len(snaps), batch):
        store.write([s.record(0.0) for s in snaps[i : i + batch]])


def raw_rows(reader: SecondaryReader, symbol: str, first: int, last: int) -> list:
    """Per price (qty, trades, taker buys) from the raw trades, by the query's original code."""
    return analytics.rows_from_trades(reader.iter_trades(symbol, first, last))


@pytest.fixture
def db(tmp_path: Path):
    path = storage.db_path(tmp_path)
    store = SnapshotStore(path)
    store.open()
    reader = SecondaryReader(path, tmp_path / "secondary")
    yield store, reader, path
    reader.close()
    store.close()


def check_windows(reader: SecondaryReader, first: int, last: int, rng: random.Random) -> None:
    reader.refresh()
    windows = [(first, last), (first - 500, last + 500), (BASE, BASE + HOUR - 1)]
    for _ in range(25):
        a = rng.randint(first - 100, last)
        windows.append((a, rng.randint(a, last + 100)))
    for a, b in windows:
        assert volume_rows(reader, "BTCUSDT", a, b).rows() == raw_rows(reader, "BTCUSDT", a, b), (
            a,
            b,
        )


def test_aggregates_survive_duplicates_backfill_and_restarts(db):
    store, reader, _ = db
    rng = random.Random(7)
    seconds = list(range(FIRST, BASE + 2 * HOUR + HOUR_GRACE + 300))
    holes = set(rng.sample(seconds[:-400], 300)) | set(range(BASE + 100, BASE + 190))
    live = [book(s) for s in seconds if s not in holes]
    write(store, live[:3000], 97)
    # A writer restart mid-minute: the cached state is gone, it is rebuilt from disk.
    store.close()
    store.open()
    write(store, live[3000:], 250)
    # Duplicates with other content (a live record and a backfilled copy that differ), and
    # late backfill into minutes and hours that were already aggregated (hours closed).
    again = [book(s, variant=1) for s in rng.sample(seconds[:-400], 200) if s not in holes]
    write(store, sorted(again, key=lambda s: s.second), 64)
    write(store, [book(s, variant=2) for s in sorted(holes)], 40)
    write(store, [book(s, variant=2) for s in sorted(holes)][:50], 40)  # the same once more

    volume = store._families[storage.VOLUME_HOURS_CF]  # the closed hours have keys
    assert volume.get(record_key("BTCUSDT", BASE)) is not None
    assert volume.get(record_key("BTCUSDT", BASE + HOUR)) is not None
    minute = store._families[storage.VOLUME_CF].get(record_key("BTCUSDT", BASE + 120))
    assert minute is not None
    reader.refresh()
    assert Volume.decode(minute).rows() == raw_rows(reader, "BTCUSDT", BASE + 120, BASE + 179)
    check_windows(reader, FIRST, seconds[-1], rng)
    # Only the open minute and the one before it stay cached: the closed ones were read back
    # from disk for the backfill above, and are dropped again once committed.
    assert store.volume is not None
    cached = sorted(minute for _, minute in store.volume._minutes)
    newest = seconds[-1] - seconds[-1] % 60
    assert cached
    assert all(minute >= newest - 60 for minute in cached), cached


def test_retention_cuts_aggregates_and_later_backfill_stays_exact(db):
    store, reader, _ = db
    rng = random.Random(3)
    seconds = range(FIRST, BASE + HOUR + HOUR_GRACE + 200)
    write(store, [book(s) for s in seconds], 500)
    cutoff = BASE + 1800 + 17  # mid-hour, mid-minute
    store.delete_before(["BTCUSDT"], cutoff, b"")
    check_windows(reader, FIRST, seconds[-1], rng)
    # Backfill into the cut minute and hour, then later seconds again.
    write(store, [book(s, 1) for s in range(cutoff, cutoff + 70)], 30)
    write(store, [book(s, 2) for s in range(cutoff - 5, cutoff + 3)], 30)
    check_windows(reader, FIRST, seconds[-1], rng)


def test_a_second_written_twice_counts_once(db):
    store, reader, _ = db
    snap = book(BASE + 5)
    assert snap.trades
    for _ in range(3):
        store.write([snap.record(0.0)])
    store.write([book(CLOSING).record(0.0)])  # the stream passes the minute: its key is written
    emptied = dataclasses.replace(snap, trades=())
    store.close()
    store.open()
    reader.refresh()
    minute = store._families[storage.VOLUME_CF].get(record_key("BTCUSDT", BASE))
    assert Volume.decode(minute).rows() == raw_rows(reader, "BTCUSDT", BASE, BASE + 59)
    store.write([emptied.record(0.0)])
    minute = store._families[storage.VOLUME_CF].get(record_key("BTCUSDT", BASE))
    assert Volume.decode(minute).rows() == []


def test_volume_profile_from_aggregates_equals_the_one_from_raw_trades(db):
    store, reader, _ = db
    seconds = range(FIRST, BASE + 2 * HOUR + HOUR_GRACE + 60)
    write(store, [book(s) for s in seconds], 1000)
    end = BASE + 2 * HOUR + 7  # windows ending mid-minute, hours back from there
    handlers = DbHandlers(reader, FakeClock(end + 100, monotonic=0.0))
    for hours, tick in ((1, None), (2, None), (3, "0.5")):
        params = {"symbol": "BTCUSDT", "duration_hours": hours, "end": end}
        if tick:
            params["tick_size"] = tick
        got = handlers.get_volume_profile(params, {})
        start = end - hours * HOUR
        rows = analytics.rows_from_trades(reader.iter_trades("BTCUSDT", start, end - 1))
        tick_size = analytics.check_tick_size(tick)
        expected = analytics.get_volume_profile(
            rows,
            symbol="BTCUSDT",
            start=start,
            end=end,
            tick_size=tick_size,
            symbol_tick=None,  # derived from the prices, as the handler does (derived_tick)
        )
        assert got == expected
        assert got["total_trades"] > 1000


def test_the_same_second_twice_in_one_batch_counts_as_the_last_copy(db):
    store, reader, _ = db
    first, second = book(BASE + 5), book(BASE + 5, variant=3)
    store.write([first.record(0.0), second.record(0.0), book(CLOSING).record(0.0)])
    reader.refresh()
    minute = store._families[storage.VOLUME_CF].get(record_key("BTCUSDT", BASE))
    assert Volume.decode(minute).rows() == raw_rows(reader, "BTCUSDT", BASE, BASE + 59)
    assert raw_rows(reader, "BTCUSDT", BASE, BASE + 59) == analytics.rows_from_trades(second.trades)


def test_an_open_minute_gets_its_key_once_the_stream_is_past_it(db):
    """An open minute is not rewritten with every batch: readers take it from its raw trades;
    its key appears once the stream is MINUTE_GRACE seconds past its end, exact."""
    store, reader, _ = db
    write(store, [book(s) for s in range(BASE, BASE + MINUTE + MINUTE_GRACE - 1)], 7)
    minutes = store._families[storage.VOLUME_CF]
    assert minutes.get(record_key("BTCUSDT", BASE)) is None
    assert minutes.get(record_key("BTCUSDT", BASE + MINUTE)) is None
    store.write([book(CLOSING).record(0.0)])
    reader.refresh()
    stored = minutes.get(record_key("BTCUSDT", BASE))
    assert Volume.decode(stored).rows() == raw_rows(reader, "BTCUSDT", BASE, BASE + 59)
    assert minutes.get(record_key("BTCUSDT", BASE + MINUTE)) is None  # still open


def test_a_minute_left_open_by_a_restart_is_written_after_it(db):
    store, reader, _ = db
    write(store, [book(s) for s in range(BASE, BASE + 40)], 10)
    store.close()  # the writer stops mid-minute; the minute never got its key
    store.open()
    store.write([book(CLOSING + 30).record(0.0)])
    reader.refresh()
    stored = store._families[storage.VOLUME_CF].get(record_key("BTCUSDT", BASE))
    assert Volume.decode(stored).rows() == raw_rows(reader, "BTCUSDT", BASE, BASE + 59)


def test_a_minute_whose_sums_no_value_can_hold_has_no_key_and_reads_exactly(db, caplog):
    """Three trades of the largest quantity at one price sum past 2^64, beyond any MessagePack
    integer: the batch is still written, the minute gets no key, and its volume is read exactly
    from its raw trades."""
    store, reader, _ = db
    largest = 2**63 - 1
    huge = book(BASE + 5)
    price = huge.trades[0].price
    trades = tuple(
        msgspec.structs.replace(huge.trades[0], agg_id=huge.trades[0].agg_id + i, qty=largest)
        for i in range(3)
    )
    huge = dataclasses.replace(huge, trades=trades)
    snaps = [book(s) for s in range(BASE, BASE + 5)] + [huge]
    snaps += [book(s) for s in range(BASE + 6, CLOSING + 1)]
    write(store, snaps, 9)
    reader.refresh()
    assert store._families[storage.VOLUME_CF].get(record_key("BTCUSDT", BASE)) is None
    assert "beyond what an aggregate holds" in caplog.text
    got = volume_rows(reader, "BTCUSDT", BASE, BASE + 59).rows()
    assert got == raw_rows(reader, "BTCUSDT", BASE, BASE + 59)
    assert next(row for row in got if row[0] == price)[1] >= 3 * largest
