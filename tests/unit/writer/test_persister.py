"""The persister over a real RocksDB with a fake clock: flush timing, Stored lines, backoff."""

from __future__ import annotations

import logging

from shared import storage
from tests.support.clock import FakeClock
from writer.config import WriterConfig
from writer.pending import Record
from writer.persister import Persister
from writer.status import WriterStatus
from writer.store import SnapshotStore


def record(second: int) -> Record:
    return Record("BTCUSDT", second, b"s", b"t", 1, second, received=1000.0)


def make(path, **config) -> tuple[Persister, FakeClock]:
    clock = FakeClock(1_800_001_000.0, monotonic=1000.0)
    cfg = WriterConfig(path.parents[1], flush_interval=0.1, **config)  # data_dir is unused
    return Persister(cfg, SnapshotStore(path), WriterStatus(0.0, 1), clock), clock


def test_records_are_written_once_due_and_only_then_logged(tmp_path, caplog):
    persister, clock = make(tmp_path / "db")
    assert persister.open_until_ready(lambda: False, clock.sleep)
    persister.queue(record(5))
    with caplog.at_level(logging.INFO):
        persister.flush()
        assert "Stored snapshot" not in caplog.text
        assert len(persister.pending) == 1
        clock.advance(0.1)
        persister.flush()
    assert "Stored snapshot for BTCUSDT at 5" in caplog.text
    assert len(persister.pending) == 0
    assert persister.store.last_second("BTCUSDT") == 5
    persister.close()


def test_a_full_batch_is_written_before_the_interval(tmp_path):
    persister, _ = make(tmp_path / "db", max_batch=3)
    persister.open_until_ready(lambda: False, lambda s: None)
    for second in range(3):
        persister.queue(record(second))
    persister.flush()
    assert len(persister.pending) == 0
    persister.close()


def test_reopen_backs_off_exponentially_up_to_the_cap(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    persister, clock = make(blocker / "db", reopen_min_delay=0.5, reopen_max_delay=4.0)
    persister.queue(record(1))
    with caplog.at_level(logging.ERROR):
        for _ in range(5):
            persister.reopen_if_due()
            clock.advance(10)
    delays = [line.split("next attempt in ")[1].split(" s")[0] for line in caplog.messages]
    assert delays == ["1.0", "2.0", "4.0", "4.0", "4.0"]
    assert len(persister.pending) == 1  # nothing lost while the database is unavailable


def test_a_closed_store_is_reopened_for_the_final_flush(tmp_path):
    persister, _ = make(tmp_path / "db")
    persister.open_until_ready(lambda: False, lambda s: None)
    persister.store.discard()
    persister.queue(record(9))
    persister.final_flush()
    persister.close()
    db = storage.open_primary(tmp_path / "db")
    assert storage.last_second(db.get_column_family(storage.SNAPSHOTS_CF), "BTCUSDT") == 9
    db.close()
