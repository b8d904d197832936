"""A writer process stores what real ZeroMQ publishers send, one key per symbol-second."""

from __future__ import annotations

import dataclasses
import signal
import time

from shared import storage
from shared.codec import decode_book, decode_trades
from tests.integration.writer.harness import FakeCollector, read_status, series, stored
from tests.support.waiting import poll_for


def test_one_snapshot_per_symbol_per_second_with_its_log_line(
    writer, collectors, zmq_context, tmp_path
):
    writer.start()
    first = int(time.time()) - 120
    books = {sym: series(sym, first, 40) for sym in ("BTCUSDT", "ETHUSDT")}
    for snaps in books.values():
        collectors.append(FakeCollector(zmq_context, writer, snaps))
        collectors[-1].start()
    expected = set(range(first, first + 40))
    for sym in books:
        writer.wait_stored(sym, expected)

    status = poll_for(
        lambda: (
            (s := read_status(writer.data_dir, tmp_path / "sec"))
            and s["symbols"].get("ETHUSDT", {}).get("last") == first + 39
            and s
        ),
        15,
    )
    assert status["store"] == "ok"
    assert status["symbols"]["BTCUSDT"]["hour"] == 40
    assert writer.proc.stop(10) == 0

    log = writer.log()
    for sym, snaps in books.items():
        assert all(log.count(f"Stored snapshot for {sym} at {s}\n") >= 1 for s in expected)
        values = stored(writer.data_dir, sym)
        trades = stored(writer.data_dir, sym, storage.TRADES_CF)
        assert set(values) == expected
        assert set(trades) == expected  # also the seconds without a trade
        for snap in snaps:
            # The writer stores the two frames it received, byte for byte.
            assert (values[snap.second], trades[snap.second]) == snap.values()
            assert decode_book(values[snap.second]) == snap.book
            assert decode_trades(trades[snap.second]).trades == snap.trades


def test_missed_seconds_are_fetched_from_the_collector_buffer(writer, collectors, zmq_context):
    writer.start()
    first = int(time.time()) - 100
    skip = {first + 10, first + 11, first + 12, first + 25}
    fake = FakeCollector(zmq_context, writer, series("BTCUSDT", first, 40), skip=skip)
    collectors.append(fake)
    fake.start()
    writer.wait_stored("BTCUSDT", set(range(first, first + 40)))
    assert (first + 10, first + 12) in fake.fetches
    assert (first + 25, first + 25) in fake.fetches
    assert "missed 3 seconds" in writer.log()
    assert writer.proc.stop(10) == 0
    assert set(stored(writer.data_dir, "BTCUSDT")) == set(range(first, first + 40))


def test_sigterm_stops_within_5s_with_everything_flushed(writer, collectors, zmq_context):
    writer.start()
    first = int(time.time()) - 600
    fake = FakeCollector(zmq_context, writer, series("BTCUSDT", first, 400), interval=0.0)
    collectors.append(fake)
    fake.start()
    poll_for(fake.finished, 20, what="all 400 records published")
    writer.wait_stored("BTCUSDT", {first})
    started = time.monotonic()
    writer.proc.signal(signal.SIGTERM)
    assert writer.proc.popen.wait(10) == 0
    assert time.monotonic() - started < 5.0
    logged = writer.logged("BTCUSDT")
    assert logged == set(range(first, first + 400))
    assert set(stored(writer.data_dir, "BTCUSDT")) == logged
    assert "Database closed" in writer.log()


def test_a_writer_started_after_the_collector_fetches_what_it_buffered(
    writer, collectors, zmq_context
):
    writer.start()
    first = int(time.time()) - 100
    books = series("BTCUSDT", first, 50)
    fake = FakeCollector(zmq_context, writer, books[30:])
    fake.buffer.update({b.second: b.frames()[1:] for b in books[:30]})  # before the writer
    collectors.append(fake)
    fake.start()
    writer.wait_stored("BTCUSDT", set(range(first, first + 50)))
    assert "new symbol; fetching the collector's buffered seconds" in writer.log()
    assert writer.proc.stop(10) == 0
    assert set(stored(writer.data_dir, "BTCUSDT")) == set(range(first, first + 50))


def test_only_configured_symbols_and_the_speaking_session_are_stored(
    writer, collectors, zmq_context, tmp_path
):
    """Unconfigured symbols, a second session of a symbol and a forged newer copy of a stored
    second are refused (counted); a restarted collector's later seconds are stored."""
    writer.start()
    first = int(time.time()) - 200
    real = series("BTCUSDT", first, 20, session=1)
    collectors.append(FakeCollector(zmq_context, writer, real))
    collectors[-1].start()
    writer.wait_stored("BTCUSDT", set(range(first, first + 20)))

    # A symbol nobody configured, a copy of the same seconds from another session, and a
    # "newer" copy of a stored second: none is stored.
    unknown = [dataclasses.replace(s, symbol="XRPUSDT") for s in series("ETHUSDT", first, 5, 7)]
    forged = series("BTCUSDT", first + 5, 10, session=9)
    for snaps in (unknown, forged):
        collectors.append(FakeCollector(zmq_context, writer, snaps, hello=False))
        collectors[-1].start()
    poll_for(
        lambda: (
            (s := read_status(writer.data_dir, tmp_path / "sec"))
            and s["rejected"].get("symbols", 0) >= 5
            and s["rejected"].get("session", 0) >= 10
        ),
        20,
        what="the unknown symbol and the foreign session counted as rejected",
    )
    # A restarted collector: a new session whose first second follows the last stored one.
    restarted = series("BTCUSDT", first + 20, 10, session=2, seq0=1)
    collectors.append(FakeCollector(zmq_context, writer, restarted))
    collectors[-1].start()
    writer.wait_stored("BTCUSDT", set(range(first, first + 30)))
    assert writer.proc.stop(10) == 0

    values = stored(writer.data_dir, "BTCUSDT")
    sessions = {second: decode_book(value).session for second, value in values.items()}
    assert all(sessions[s] == 1 for s in range(first, first + 20))
    assert all(sessions[s] == 2 for s in range(first + 20, first + 30))
    assert stored(writer.data_dir, "XRPUSDT") == {}
    assert "Rejected a message" in writer.log()
