"""A writer killed with SIGKILL and restarted keeps its data and fills the seconds it missed."""

from __future__ import annotations

import time

from shared import storage
from tests.integration.writer.harness import FakeCollector, series, stored
from tests.support.waiting import poll_for
from writer.store import SnapshotStore


def test_sigkill_then_restart_loses_nothing_and_leaves_no_hole(writer, collectors, zmq_context):
    writer.start()
    first = int(time.time()) - 300
    count = 150
    fake = FakeCollector(zmq_context, writer, series("BTCUSDT", first, count), interval=0.04)
    collectors.append(fake)
    fake.start()
    writer.wait_stored("BTCUSDT", set(range(first, first + 30)))

    # ZeroMQ would queue the PUB's records for the restarted writer; mute it so the seconds
    # published while the writer is down can only come back from the collector's buffer.
    fake.muted.set()
    writer.proc.kill()  # SIGKILL: no flush, no close
    logged_before_kill = writer.logged("BTCUSDT")
    muted_at = fake.published
    poll_for(lambda: fake.published >= muted_at + 10, 10, what="10 records published meanwhile")
    writer.start()
    fake.muted.clear()

    writer.wait_stored("BTCUSDT", set(range(first, first + count)), timeout=60)
    assert "last stored second" in writer.log()
    assert "fetching them" in writer.log()  # the seconds missed while down came from the buffer
    assert writer.proc.stop(10) == 0
    on_disk = set(stored(writer.data_dir, "BTCUSDT"))
    assert logged_before_kill <= on_disk
    assert on_disk == set(range(first, first + count))


def test_holes_left_by_an_earlier_run_are_fetched_at_start(writer, collectors, zmq_context):
    first = int(time.time()) - 200
    books = series("BTCUSDT", first, 60)
    holes = {first + 5, first + 6, first + 30}
    seed = SnapshotStore(storage.db_path(writer.data_dir))
    seed.open()
    seed.write([b.record(0.0) for b in books[:40] if b.second not in holes])
    seed.close()

    writer.start()
    fake = FakeCollector(zmq_context, writer, books[40:])
    fake.buffer.update({b.second: b.frames()[1:] for b in books[:40]})
    collectors.append(fake)
    fake.start()
    writer.wait_stored("BTCUSDT", holes | {b.second for b in books[40:]})
    assert "are missing; fetching them" in writer.log()
    assert writer.proc.stop(10) == 0
    assert set(stored(writer.data_dir, "BTCUSDT")) == set(range(first, first + 60))
