"""Writer benchmarks: ZeroMQ → RocksDB ingest rate vs raw rocksdict, and bytes per stored second.

Plain functions returning dicts (the lead wires them into ``make bench``). Run them all by hand
with ``python -m benchmarks.writer_ingest``. Books come from the real recordings.
``ingest_vs_raw`` puts the writer's rate next to a raw rocksdict loop of the same bytes measured in
the same run; ``volume_profile_day`` times the 24-hour volume profile over a full day.
"""

from __future__ import annotations

import dataclasses
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import msgspec
import psutil
import zmq
from rocksdict import Rdict, WriteBatch, WriteOptions

from query import analytics
from query.handlers import DbHandlers
from query.reader import SecondaryReader
from query.volume_reader import volume_rows
from shared import storage
from shared.codec import record_key
from tests.integration.writer.recorded import recorded, retimed
from tests.support.clock import FakeClock
from tests.support.seconds import Second
from tests.support.waiting import free_endpoint, poll_for
from writer.columns import validate_messages
from writer.pending import Record
from writer.store import SnapshotStore
from writer.subscriber import MAX_DRAIN
from writer.validate import Limits

REPO = Path(__file__).resolve().parents[1]


def _books(records: int, symbols: int) -> list[Second]:
    """``records`` snapshots spread over ``symbols`` symbols, seconds within the last hours."""
    real = recorded("BTCUSDT") + recorded("ETHUSDT")
    per_symbol = records // symbols
    start = int(time.time()) - per_symbol - 120
    books = []
    for s in range(symbols):
        for i in range(per_symbol):
            book = real[(s * 37 + i) % len(real)]
            moved = retimed(book, start + i, 1, i + 1)
            books.append(dataclasses.replace(moved, symbol=f"BENCH{s:02d}"))
    return books


class _LogCounter:
    """Counts ``Stored snapshot`` lines of a growing log file incrementally."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.count, self.rest = path, 0, 0, b""

    def update(self) -> int:
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
        self.offset += len(chunk)
        data = self.rest + chunk
        cut = data.rfind(b"\n") + 1
        self.count += data[:cut].count(b"Stored snapshot for ")
        self.rest = data[cut:]
        return self.count


def writer_ingest_rate(records: int = 60_000, symbols: int = 20, log_level: str = "INFO") -> dict:
    """Records/s from a ZeroMQ PUB through a real ``python -m writer`` into RocksDB.

    Timed from the first send to the moment the last record is durable (its ``Stored snapshot``
    line is logged; with ``log_level="WARNING"`` to the moment it is readable in the database).
    The publisher sends far faster than the writer stores, so this is the writer's sustained
    rate over the whole run (``steady_records_per_s`` leaves out the first 10 % of the records,
    i.e. the start-up of the pipeline, using the time their Stored lines were seen).
    """
    books = _books(records, symbols)
    messages = [b.frames() for b in books]
    with tempfile.TemporaryDirectory() as tmp:
        ingest, backfill = free_endpoint(), free_endpoint()
        log_path = Path(tmp) / "writer.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "writer",
                    "--data-dir",
                    tmp,
                    "--ingest-endpoint",
                    ingest,
                    "--backfill-endpoint",
                    backfill,
                    "--log-level",
                    log_level,
                    "--pending-capacity",
                    str(records * 2),
                    "--symbols",
                    ",".join(sorted({b.symbol for b in books} | {"BTCUSDT"})),
                ],
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        pub = context.socket(zmq.PUB)
        pub.setsockopt(zmq.SNDHWM, 0)
        pub.setsockopt(zmq.LINGER, 0)
        reader = _Reader(Path(tmp))
        try:
            pub.connect(ingest)
            # Re-send a probe until it is in the database: the writer is up and the PUB joined.
            probe = retimed(recorded("BTCUSDT")[0], int(time.time()) - 5, 9, 1)
            poll_for(
                lambda: pub.send_multipart(probe.frames()) or reader.has(probe),
                30,
                0.2,
            )
            counter = _LogCounter(log_path)
            baseline = counter.update()
            # CPU seconds of the writer process (all its threads): on a shared machine the
            # wall-clock rate depends on what else runs, records per CPU second much less.
            cpu = psutil.Process(proc.pid)
            cpu_before = sum(cpu.cpu_times()[:2])
            started = time.perf_counter()
            for message in messages:
                pub.send_multipart(message)
            sent = time.perf_counter() - started
            tenth: list[float] = []
            if log_level == "INFO":

                def done() -> bool:
                    count = counter.update() - baseline
                    if not tenth and count >= records // 10:
                        tenth.append(time.perf_counter())
                    return count >= records

                poll_for(done, 300, 0.01)
            else:
                last = books[-1]
                poll_for(lambda: reader.has(last), 300, 0.01)
            elapsed = time.perf_counter() - started
            cpu_used = sum(cpu.cpu_times()[:2]) - cpu_before
        finally:
            reader.close()
            proc.terminate()
            proc.wait(10)
            pub.close(0)
            context.term()
    return {
        "records": records,
        "symbols": symbols,
        "log_level": log_level,
        "payload_bytes": sum(len(m[1]) + len(m[2]) for m in messages) // records,
        "send_seconds": round(sent, 3),
        "seconds": round(elapsed, 3),
        "records_per_s": round(records / elapsed),
        "writer_cpu_seconds": round(cpu_used, 3),
        "records_per_cpu_s": round(records / cpu_used) if cpu_used > 0 else None,
        "steady_records_per_s": (
            round((records - records // 10) / (started + elapsed - tenth[0])) if tenth else None
        ),
    }


def stage_costs(records: int = 40_000, symbols: int = 20, batch: int = 1000) -> dict:
    """In-process µs per record of the writer's stages, on the same messages as the ingest run.

    ``validate``: topic/size checks, the reading of both frames, the order, agreement and
    second checks, in drains of ``MAX_DRAIN`` as the writer takes them
    (``columns.validate_messages``; the frames are stored as received);
    ``store_plain``: ``SnapshotStore.write`` of synced batches
    without the volume aggregates; ``store``: the same with them (what the writer does). What the
    writer process spends beyond their sum goes to ZeroMQ, the pending queue, status and logging.
    """
    books = _books(records, symbols)
    messages = [b.frames() for b in books]
    now, limits = time.time(), Limits()
    started = time.perf_counter()
    results = [
        result
        for first in range(0, len(messages), MAX_DRAIN)
        for result in validate_messages(messages[first : first + MAX_DRAIN], now, limits, 0.0)
    ]
    validate = time.perf_counter() - started
    rows = [row for row in results if isinstance(row, Record)]
    result = {"validate_us": round(validate / records * 1e6, 1)}
    for name, aggregates in (("store_plain_us", False), ("store_us", True)):
        with tempfile.TemporaryDirectory() as tmp:
            store = SnapshotStore(storage.db_path(tmp))
            store.open()
            if not aggregates:
                store.volume = None
            started = time.perf_counter()
            for i in range(0, len(rows), batch):
                store.write(rows[i : i + batch])
            result[name] = round((time.perf_counter() - started) / records * 1e6, 1)
            store.close()
    return result


def ingest_vs_raw(records: int = 60_000, symbols: int = 20) -> dict:
    """The writer's rate next to a raw rocksdict put loop of the same bytes, in the same run.

    The goal (benchmarks issue): at least 50,000 records/s and at least 40 % of the raw loop.
    """
    raw = rocksdict_put_rate(records, symbols)
    writer = writer_ingest_rate(records, symbols)
    rate = writer["records_per_s"]
    return {
        "writer_records_per_s": rate,
        "writer_steady_records_per_s": writer["steady_records_per_s"],
        "raw_synced_batches_per_s": raw["synced_batches_per_s"],
        "raw_single_puts_per_s": raw["unsynced_single_puts_per_s"],
        "ratio_to_synced_batches": round(rate / raw["synced_batches_per_s"], 3),
        "ratio_to_single_puts": round(rate / raw["unsynced_single_puts_per_s"], 3),
    }


class _Reader:
    """A secondary opened once (after the writer created the database), caught up per check."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.db: Rdict | None = None

    def has(self, snap: Second) -> bool:
        if self.db is None:
            secondary = self.data_dir / f"bench-secondary-{os.getpid()}"
            self.db = storage.open_secondary(storage.db_path(self.data_dir), secondary)
        self.db.try_catch_up_with_primary()
        family = self.db.get_column_family(storage.SNAPSHOTS_CF)
        return family.get(record_key(snap.symbol, snap.second)) is not None

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


def rocksdict_put_rate(records: int = 60_000, symbols: int = 20, batch: int = 1000) -> dict:
    """The same keys and values put straight into rocksdict: synced batches and single puts."""
    books = _books(records, symbols)
    items = [(record_key(b.symbol, b.second), *b.values()) for b in books]
    synced = WriteOptions()
    synced.sync = True
    result: dict[str, object] = {"records": records, "batch": batch}
    with tempfile.TemporaryDirectory() as tmp:
        db = storage.open_primary(Path(tmp) / "batched")
        snaps, trades = (db.get_column_family_handle(n) for n in storage.DATA_FAMILIES)
        started = time.perf_counter()
        for i in range(0, records, batch):
            wb = WriteBatch(raw_mode=True)
            for key, snap, trade in items[i : i + batch]:
                wb.put(key, snap, snaps)
                wb.put(key, trade, trades)
            db.write(wb, synced)
        result["synced_batches_per_s"] = round(records / (time.perf_counter() - started))
        del snaps, trades
        db.close()
        db = storage.open_primary(Path(tmp) / "single")
        snap_cf, trade_cf = (db.get_column_family(n) for n in storage.DATA_FAMILIES)
        started = time.perf_counter()
        for key, snap, trade in items:
            snap_cf.put(key, snap)
            trade_cf.put(key, trade)
        result["unsynced_single_puts_per_s"] = round(records / (time.perf_counter() - started))
        del snap_cf, trade_cf
        db.close()
    return result


def stored_bytes_per_snapshot(repeat: int = 20) -> dict:
    """Bytes on disk per stored 20-level snapshot (and per trades value) after full compaction.

    Uses every real second of both recordings, ``repeat`` times over consecutive seconds, so the
    table files are large enough for per-file overhead not to dominate.
    """
    real = {sym: recorded(sym) for sym in ("BTCUSDT", "ETHUSDT")}
    with tempfile.TemporaryDirectory() as tmp:
        db = storage.open_primary(Path(tmp) / "db")
        handles = {n: db.get_column_family_handle(n) for n in storage.DATA_FAMILIES}
        raw = dict.fromkeys(storage.DATA_FAMILIES, 0)
        count = 0
        for sym, books in real.items():
            second = 1_700_000_000
            for _ in range(repeat):
                wb = WriteBatch(raw_mode=True)
                for book in books:
                    key = record_key(sym, second)
                    moved = dataclasses.replace(book, second=second)
                    values = dict(zip(storage.DATA_FAMILIES, moved.values(), strict=True))
                    for name, value in values.items():
                        wb.put(key, value, handles[name])
                        raw[name] += len(value)
                    second += 1
                    count += 1
                db.write(wb)
        result: dict[str, object] = {
            "seconds_stored": count,
            "levels_per_side": len(real["BTCUSDT"][0].bids),
        }
        for name in storage.DATA_FAMILIES:
            family = db.get_column_family(name)
            family.flush()
            family.compact_range(None, None)
            on_disk = family.property_int_value("rocksdb.total-sst-files-size") or 0
            result[f"{name}_msgpack_bytes"] = round(raw[name] / count, 1)
            result[f"{name}_disk_bytes"] = round(on_disk / count, 1)
            del family
        del handles
        db.close()
    return result


def volume_profile_day(drift_ticks: int = 0, repeat: int = 5) -> dict:
    """24-hour volume profile of a full day of BTCUSDT-rate data: aggregates vs raw trades.

    The day (86,400 seconds, ~28 trades/s, ~2.4 M trades) cycles the real BTCUSDT recording; with
    ``drift_ticks`` each cycle's prices move by a random walk of up to that many 0.01 ticks, so
    the day spans a realistic number of distinct prices instead of the recording's ~2,600.
    Written through the writer's own store (which maintains the aggregates), read through the
    query process's handler; the two results must be identical.
    """
    real = recorded("BTCUSDT")
    day_end = int(time.time()) // 3600 * 3600 - 3600
    first = day_end - 86_400
    rng = random.Random(1)
    shift = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = storage.db_path(tmp)
        store = SnapshotStore(path)
        store.open()
        started = time.perf_counter()
        batch = []
        trades_total = 0
        for i, second in enumerate(range(first, day_end)):
            book = real[i % len(real)]
            if i % len(real) == 0 and drift_ticks:
                shift += rng.randint(-drift_ticks, drift_ticks) * 1_000_000
            trades = tuple(msgspec.structs.replace(t, price=t.price + shift) for t in book.trades)
            trades_total += len(trades)
            moved = dataclasses.replace(book, second=second, seq=i + 1, trades=trades)
            batch.append(moved.record(0.0))
            if len(batch) == 1000:
                store.write(batch)
                batch = []
        store.write(batch)
        write_seconds = time.perf_counter() - started
        store.close()

        reader = SecondaryReader(path, Path(tmp) / "secondary")
        # "now" is a minute after the synthetic day, whenever the benchmark runs
        handlers = DbHandlers(reader, FakeClock(day_end + 60.0))
        params = {"symbol": "BTCUSDT", "duration_hours": 24, "end": day_end - 17}
        timings = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fast = handlers.get_volume_profile(params, {})
            timings.append(time.perf_counter() - t0)
        start, end = day_end - 17 - 86_400, day_end - 17
        t0 = time.perf_counter()
        rows = analytics.rows_from_trades(reader.iter_trades("BTCUSDT", start, end - 1))
        slow = analytics.get_volume_profile(
            rows,
            symbol="BTCUSDT",
            start=start,
            end=end,
            tick_size=None,
            symbol_tick=analytics.derive_symbol_tick(row.price for row in rows),
        )
        raw_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        merged = volume_rows(reader, "BTCUSDT", start, end - 1)
        rows_seconds = time.perf_counter() - t0
        reader.close()
    return {
        "trades": trades_total,
        "distinct_prices": fast["rows_used"],
        "write_seconds": round(write_seconds, 1),
        "profile_ms_first": round(timings[0] * 1000, 1),  # a fresh reader: nothing cached
        "profile_ms_min": round(min(timings) * 1000, 1),
        "profile_ms_median": round(sorted(timings)[len(timings) // 2] * 1000, 1),
        "aggregate_read_ms": round(rows_seconds * 1000, 1),
        "raw_profile_ms": round(raw_seconds * 1000, 1),
        "identical": fast == slow and len(merged) == fast["rows_used"],
    }


if __name__ == "__main__":
    print("stored_bytes_per_snapshot", stored_bytes_per_snapshot())
    for _ in range(2):
        print("ingest_vs_raw", ingest_vs_raw())
    print("writer_ingest_rate", writer_ingest_rate(log_level="WARNING"))
    print("volume_profile_day", volume_profile_day())
    print("volume_profile_day drift", volume_profile_day(drift_ticks=5000))
