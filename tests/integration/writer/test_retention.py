"""Retention in the writer process: 8-day-old data goes, 6-day-old data stays."""

from __future__ import annotations

import time

from shared import storage
from tests.integration.writer.harness import FakeCollector, WriterProc, series, stored
from writer.store import SnapshotStore

DAY = 86_400


def test_old_data_is_range_deleted_on_schedule(writer, collectors, zmq_context):
    now = int(time.time())
    old = set(range(now - 8 * DAY, now - 8 * DAY + 5))
    young = set(range(now - 6 * DAY, now - 6 * DAY + 5))
    seed = SnapshotStore(storage.db_path(writer.data_dir))
    seed.open()
    for symbol in ("BTCUSDT", "ETHUSDT"):
        seed.write(
            [
                snap.record(0.0)
                for second in sorted(old | young)
                for snap in series(symbol, second, 1)
            ]
        )
    seed.close()

    writer.start()
    writer.proc.wait_log("Retention: removed data older than", 20)
    assert writer.proc.stop(10) == 0
    for symbol in ("BTCUSDT", "ETHUSDT"):
        for family in storage.DATA_FAMILIES:
            assert set(stored(writer.data_dir, symbol, family)) == young


def test_retention_in_seconds_keeps_a_sliding_window(tmp_path, collectors, zmq_context):
    writer = WriterProc(
        tmp_path, tmp_path / "data", "--retention", "100s", "--retention-interval", "1s"
    )
    try:
        writer.start()
        first = int(time.time()) - 150
        fake = FakeCollector(zmq_context, writer, series("BTCUSDT", first, 150), interval=0.0)
        collectors.append(fake)
        fake.start()
        writer.wait_stored("BTCUSDT", set(range(first, first + 150)))
        writer.proc.wait_log("Retention: removed data older than", 20, count=3)
        assert writer.proc.stop(10) == 0
        kept = set(stored(writer.data_dir, "BTCUSDT"))
        cutoff = int(time.time()) - 100
        assert kept  # the newest seconds are younger than 100 s
        assert first not in kept
        assert min(kept) >= cutoff - 10  # the last run was at most a few seconds ago
    finally:
        if writer.proc is not None:
            writer.proc.kill()
