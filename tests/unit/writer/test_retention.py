"""Retention cutoffs and the range deletes against a real RocksDB."""

from __future__ import annotations

import pytest

from shared import storage
from shared.codec import record_key
from writer.pending import Record
from writer.retention import RetentionSchedule, retention_cutoff
from writer.store import SnapshotStore

DAY = 86_400
NOW = 1_800_000_000.7


def test_cutoff_is_now_minus_retention():
    assert retention_cutoff(NOW, 7 * DAY) == 1_800_000_000 - 7 * DAY


def test_cutoff_never_goes_negative():
    assert retention_cutoff(100.0, 7 * DAY) == 0


def test_retention_must_be_positive():
    with pytest.raises(ValueError, match="at least one second"):
        retention_cutoff(NOW, 0)


def test_schedule_is_due_at_start_then_every_interval(tmp_path):
    store = SnapshotStore(tmp_path / "db")
    store.open()
    schedule = RetentionSchedule(7 * DAY, 3600.0)
    assert schedule.due(10.0)
    assert schedule.run(store, NOW, 10.0) == retention_cutoff(NOW, 7 * DAY)
    assert not schedule.due(3609.0)
    assert schedule.due(3610.0)
    store.close()


def record(symbol: str, second: int) -> Record:
    return Record(symbol, second, b"s%d" % second, b"t%d" % second, 1, 1)


def test_eight_day_old_data_goes_six_day_old_data_stays(tmp_path):
    store = SnapshotStore(tmp_path / "db")
    store.open()
    now = int(NOW)
    old = [now - 8 * DAY + i for i in range(3)]
    young = [now - 6 * DAY + i for i in range(3)]
    store.write([record(sym, s) for sym in ("BTCUSDT", "ETHUSDT", "BTC") for s in old + young])
    RetentionSchedule(7 * DAY, 3600.0).run(store, NOW, 0.0)
    store.close()

    db = storage.open_primary(tmp_path / "db")
    for name in storage.DATA_FAMILIES:
        family = db.get_column_family(name)
        for sym in ("BTCUSDT", "ETHUSDT", "BTC"):
            assert [s for s, _ in storage.iter_range(family, sym, 0, now)] == young
            assert family.get(record_key(sym, old[0])) is None
        del family
    db.close()
