"""shared/storage.py against a real RocksDB: layout, seeks, range reads, the secondary."""

from __future__ import annotations

from rocksdict import Rdict, WriteBatch, WriteOptions

from shared import storage
from shared.codec import record_key


def put(db: Rdict, family: str, items: dict[bytes, bytes]) -> None:
    batch = WriteBatch(raw_mode=True)
    handle = db.get_column_family_handle(family)
    for key, value in items.items():
        batch.put(key, value, handle)
    options = WriteOptions()
    options.sync = True
    db.write(batch, options)


def test_primary_creates_every_column_family(tmp_path):
    db = storage.open_primary(storage.db_path(tmp_path))
    db.close()
    assert set(Rdict.list_cf(str(storage.db_path(tmp_path)))) == {
        "default",
        *storage.COLUMN_FAMILIES,
    }


def test_range_reads_seek_and_stop_at_the_symbol_bounds(tmp_path):
    db = storage.open_primary(tmp_path / "db")
    put(
        db,
        storage.SNAPSHOTS_CF,
        {
            record_key(s, t): b"%s%d" % (s.encode(), t)
            for s in ("BTC", "BTCUSDT", "BTCUSDTX")
            for t in range(100, 110)
        },
    )
    family = db.get_column_family(storage.SNAPSHOTS_CF)
    assert [t for t, _ in storage.iter_range(family, "BTCUSDT", 103, 105)] == [103, 104, 105]
    assert list(storage.iter_range(family, "BTCUSDT", 109, 200)) == [(109, b"BTCUSDT109")]
    assert list(storage.iter_range(family, "BTCUSDT", 5, 4)) == []
    assert storage.first_second(family, "BTCUSDT") == 100
    assert storage.last_second(family, "BTCUSDT") == 109
    assert storage.last_second(family, "BTCUSD") is None
    assert storage.first_second(family, "ETHUSDT") is None
    del family
    db.close()


def test_known_symbols_come_from_meta(tmp_path):
    db = storage.open_primary(tmp_path / "db")
    put(
        db,
        storage.META_CF,
        {
            storage.symbol_meta_key("ETHUSDT"): b"",
            storage.symbol_meta_key("BTCUSDT"): b"",
            storage.STATUS_KEY: b"x",
        },
    )
    assert storage.known_symbols(db.get_column_family(storage.META_CF)) == ["BTCUSDT", "ETHUSDT"]
    db.close()


def test_a_secondary_sees_the_primarys_writes_after_catching_up(tmp_path):
    primary = storage.open_primary(tmp_path / "db")
    put(primary, storage.SNAPSHOTS_CF, {record_key("BTCUSDT", 100): b"a"})
    secondary = storage.open_secondary(tmp_path / "db", tmp_path / "secondary")
    family = secondary.get_column_family(storage.SNAPSHOTS_CF)
    assert storage.last_second(family, "BTCUSDT") == 100

    put(primary, storage.SNAPSHOTS_CF, {record_key("BTCUSDT", 101): b"b"})
    # In a batch, as the writer does it: a lone delete_range is only seen after the next write.
    batch = WriteBatch(raw_mode=True)
    batch.delete_range(
        record_key("BTCUSDT", 0),
        record_key("BTCUSDT", 101),
        primary.get_column_family_handle(storage.SNAPSHOTS_CF),
    )
    primary.write(batch)
    secondary.try_catch_up_with_primary()
    assert list(storage.iter_range(family, "BTCUSDT", 0, 200)) == [(101, b"b")]
    del family
    secondary.close()
    primary.close()


def test_the_writer_has_one_bounded_cache_that_its_memtables_are_charged_to(tmp_path):
    db = storage.open_primary(tmp_path / "db")
    families = {name: db.get_column_family(name) for name in storage.COLUMN_FAMILIES}
    capacity = {f.property_int_value("rocksdb.block-cache-capacity") for f in families.values()}
    assert capacity == {storage.WRITER_MEMORY}  # one budget, not a default cache per family
    before = storage.memory_usage(families)
    value = bytes(range(256)) * 4  # 1 KiB
    put(db, storage.SNAPSHOTS_CF, {record_key("BTCUSDT", t): value for t in range(4000)})
    put(db, storage.TRADES_CF, {record_key("BTCUSDT", t): value for t in range(4000)})
    after = storage.memory_usage(families)
    usage = {f.property_int_value(storage.CACHE_USAGE) for f in families.values()}
    db.close()
    assert len(usage) == 1  # every family sees the same (shared) cache
    assert after["memtables"] >= before["memtables"] + 8000 * 1024
    # The memtables are charged to the cache: its usage grew with them, with no block read.
    assert after["cache"] - before["cache"] >= after["memtables"] - before["memtables"]
    assert after["cache"] <= storage.WRITER_MEMORY
