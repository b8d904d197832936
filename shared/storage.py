"""The RocksDB layout both the writer (primary) and the query reader (secondary) open.

One database at ``<data-dir>/rocksdb`` with these column families (``default`` is unused):

- ``snapshots``: key ``SYMBOL:0123456789`` → a ``model.BookSnapshot`` (as the collector sent it)
- ``trades``: the same key → a ``model.SecondTrades``; written for every stored second, even
  with an empty trade list, so "no trades in that second" differs from "second not recorded".
- ``volume``: key ``SYMBOL:<minute start second>`` → ``shared.volume.Volume.encode()`` (traded
  volume per exact price of that minute, kept equal to the sum of its stored trades, same batch).
- ``volume_hours``: key ``SYMBOL:<hour start second>`` → the same for a whole hour, written once
  the hour is over (an hour or minute without a key is read from the finer level).
- ``meta``: ``symbol:<SYMBOL>`` → empty (the symbols ever stored, so retention and readers never
  scan data keys to find them), ``status`` → the writer's msgpack status record, and
  ``retention`` → msgpack ``{"v", "cutoff", "at"}`` of the last retention run.

``docs/storage.md`` documents the format for readers without booksnap. Options are raw
(``raw_mode=True``): keys and values are bytes, and msgpack stays the only codec.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from rocksdict import (
    AccessType,
    BlockBasedOptions,
    Cache,
    DBCompressionType,
    Options,
    Rdict,
    RdictIter,
    ReadOptions,
    WriteBufferManager,
)

from shared.codec import SECOND_DIGITS, check_symbol, record_key, symbol_prefix

DB_DIRNAME = "rocksdb"
SNAPSHOTS_CF = "snapshots"
TRADES_CF = "trades"
META_CF = "meta"
VOLUME_CF = "volume"  # per-minute volume aggregates
VOLUME_HOURS_CF = "volume_hours"  # per-hour volume aggregates
DATA_FAMILIES = (SNAPSHOTS_CF, TRADES_CF)
AGGREGATE_FAMILIES = (VOLUME_CF, VOLUME_HOURS_CF)
COLUMN_FAMILIES = (SNAPSHOTS_CF, TRADES_CF, META_CF, VOLUME_CF, VOLUME_HOURS_CF)

META_SYMBOL_PREFIX = b"symbol:"
STATUS_KEY = b"status"
RETENTION_KEY = b"retention"
LAST_SECOND = 10**SECOND_DIGITS - 1
READER_BLOCK_CACHE = 256 * 1024 * 1024  # the query process's uncompressed blocks (all families)
# The writer's RocksDB memory, one budget: its block cache (the few reads it makes, and every
# table's index and filter) and the memtables of every family are charged to one cache of
# WRITER_MEMORY bytes; once the memtables of all families together pass WRITER_MEMTABLES the
# biggest is flushed. Without it each family had its own 32 MiB cache and memtables of up to
# 2 x 16 MiB, ~320 MiB in all (docs/storage.md, "Options").
WRITER_MEMORY = 128 * 1024 * 1024
WRITER_MEMTABLES = 64 * 1024 * 1024


def db_path(data_dir: str | Path) -> Path:
    """Where the database of a data directory lives."""
    return Path(data_dir) / DB_DIRNAME


def build_options(
    *,
    secondary: bool = False,
    block_cache: Cache | None = None,
    memtables: WriteBufferManager | None = None,
) -> Options:
    """The Options of the database and of every column family (writer and reader alike).

    Why these choices, for ~1 KB values written once a second per symbol and read by range:
    - No prefix extractor: symbols have 2-20 characters, so neither a fixed-length nor a
      max-length prefix matches ``SYMBOL:``; a wrong one would make bounded iterators skip keys.
      Range reads instead set exact iterator bounds (``iter_range``), which is as cheap: keys are
      time-ordered within a symbol, so a seek lands on the first wanted block.
    - Whole-key bloom filters (10 bits/key, ~1 % false positives) make the point lookups of one
      exact second (``get``) skip table files that do not hold it.
    - LZ4 on the upper levels (cheap while data is fresh) and zstd on the bottommost level, where
      almost all of a 7-day history ends up; 16 KiB blocks give zstd many similar consecutive
      seconds of the same book to work on.
    - A modest write buffer and a WAL cap: the ``meta`` family is written rarely, and without the
      cap its unflushed entries would keep every old WAL file alive.
    - ``block_cache`` (the reader's): one cache shared by every family. RocksDB's default is a
      32 MiB cache per family split in 64 shards of 512 KiB, and an hour's volume aggregate
      (~0.5 MB) that does not fit a shard is never cached: every 24-hour profile would then
      decompress a day of hours again (~15 ms).
    - ``memtables`` (the writer's): one write-buffer manager for every family, charged to the
      writer's one cache, so block cache and memtables share the ``WRITER_MEMORY`` budget.
    """
    table = BlockBasedOptions()
    if block_cache is not None:
        table.set_block_cache(block_cache)
    table.set_bloom_filter(10, False)
    table.set_block_size(16 * 1024)
    table.set_cache_index_and_filter_blocks(True)
    options = Options(raw_mode=True)
    options.set_block_based_table_factory(table)
    options.set_compression_type(DBCompressionType.lz4())
    options.set_bottommost_compression_type(DBCompressionType.zstd())
    options.set_write_buffer_size(16 * 1024 * 1024)
    options.set_max_total_wal_size(64 * 1024 * 1024)
    options.set_keep_log_file_num(3)
    if memtables is not None:
        options.set_write_buffer_manager(memtables)
    if secondary:
        options.set_max_open_files(-1)  # a secondary must keep every table file open
    else:
        options.create_if_missing(True)
        options.create_missing_column_families(True)
    return options


def _families(
    secondary: bool, cache: Cache | None = None, memtables: WriteBufferManager | None = None
) -> dict[str, Options]:
    return {
        name: build_options(secondary=secondary, block_cache=cache, memtables=memtables)
        for name in COLUMN_FAMILIES
    }


def open_primary(path: str | Path) -> Rdict:
    """Open (creating if missing) the database for writing; only the writer calls this. Its
    RocksDB memory is bounded by ``WRITER_MEMORY`` (see there; ``memory_usage`` reads it)."""
    Path(path).mkdir(parents=True, exist_ok=True)
    cache = Cache(WRITER_MEMORY)
    memtables = WriteBufferManager.new_write_buffer_manager_with_cache(
        WRITER_MEMTABLES, False, cache
    )
    return Rdict(
        str(path),
        build_options(block_cache=cache, memtables=memtables),
        column_families=_families(False, cache, memtables),
    )


CACHE_USAGE = "rocksdb.block-cache-usage"  # of the one cache, whichever family is asked
MEMTABLES = "rocksdb.cur-size-all-mem-tables"  # per family
TABLE_READERS = "rocksdb.estimate-table-readers-mem"  # per family: what is outside the cache


def memory_usage(families: dict[str, Rdict]) -> dict[str, int]:
    """RocksDB's memory in bytes: ``cache`` (the shared block cache, memtables' charge
    included), ``memtables`` (their own size, all families) and ``table_readers`` (index and
    filter memory held outside the cache)."""
    first = next(iter(families.values()))
    return {
        "cache": first.property_int_value(CACHE_USAGE) or 0,
        "memtables": sum(f.property_int_value(MEMTABLES) or 0 for f in families.values()),
        "table_readers": sum(f.property_int_value(TABLE_READERS) or 0 for f in families.values()),
    }


def open_secondary(path: str | Path, secondary_dir: str | Path) -> Rdict:
    """Open a read-only secondary; call ``try_catch_up_with_primary()`` before each read.

    The aggregate families are optional: a database last written by a writer that predates them
    still opens without them (see ``families``). Raises (a rocksdict exception, or ValueError
    while the primary is still creating its families) when the database is not ready yet.
    """
    Path(secondary_dir).mkdir(parents=True, exist_ok=True)
    existing = set(Rdict.list_cf(str(path)))
    missing = [name for name in COLUMN_FAMILIES if name not in existing]
    if any(name not in AGGREGATE_FAMILIES for name in missing):
        raise ValueError(f"column families {missing} of {path} do not exist yet")
    cache = Cache(READER_BLOCK_CACHE)  # one for every family (see build_options)
    return Rdict(
        str(path),
        build_options(secondary=True, block_cache=cache),
        column_families={n: o for n, o in _families(True, cache).items() if n in existing},
        access_type=AccessType.secondary(str(secondary_dir)),
    )


def change_signature(path: str | Path) -> tuple[tuple[str, int, int], ...]:
    """Name, size and mtime of the files a primary changes when it writes anything.

    Every write appends to a WAL file (``*.log``); flushes and compactions append to the
    ``MANIFEST-*`` (and a new one is named by ``CURRENT``). A secondary whose last catch-up saw
    the same signature has nothing to catch up. A missing directory gives an empty signature.
    """
    found = []
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                name = entry.name
                if name.endswith(".log") or name.startswith("MANIFEST-") or name == "CURRENT":
                    try:
                        info = entry.stat()
                    except OSError:  # deleted while we looked (an obsolete WAL)
                        continue
                    found.append((name, info.st_size, info.st_mtime_ns))
    except OSError:
        return ()
    found.sort()
    return tuple(found)


def families(db: Rdict) -> dict[str, Rdict]:
    """The column families of ``COLUMN_FAMILIES`` that ``db`` has open, by name."""
    found: dict[str, Rdict] = {}
    for name in COLUMN_FAMILIES:
        try:
            found[name] = db.get_column_family(name)
        except Exception:  # rocksdict: not opened (the family did not exist then)
            continue
    return found


def iter_range(family: Rdict, symbol: str, first: int, last: int) -> Iterator[tuple[int, bytes]]:
    """Yield ``(second, value)`` for keys of ``symbol`` from ``first`` to ``last`` inclusive.

    Seeks to the first key and stops at an exact upper bound: never reads another symbol's keys
    nor anything older than ``first``.
    """
    if last < first:
        return
    read = ReadOptions()
    read.set_iterate_lower_bound(record_key(symbol, first))
    read.set_iterate_upper_bound(record_key(symbol, min(last, LAST_SECOND - 1) + 1))
    it = family.iter(read)
    it.seek(record_key(symbol, first))
    skip = len(symbol_prefix(symbol))
    while it.valid():
        key: bytes = it.key()
        yield int(key[skip:]), it.value()
        it.next()
    del it


def last_second(family: Rdict, symbol: str) -> int | None:
    """The newest stored second of ``symbol`` in ``family``, by one backward seek."""
    it = family.iter()
    it.seek_for_prev(record_key(symbol, LAST_SECOND))
    found = _second_if_symbol(it, symbol)
    del it
    return found


def first_second(family: Rdict, symbol: str) -> int | None:
    """The oldest stored second of ``symbol`` in ``family``, by one forward seek."""
    it = family.iter()
    it.seek(record_key(symbol, 0))
    found = _second_if_symbol(it, symbol)
    del it
    return found


def _second_if_symbol(it: RdictIter, symbol: str) -> int | None:
    if not it.valid():
        return None
    key: bytes = it.key()
    prefix = symbol_prefix(symbol)
    if not key.startswith(prefix):
        return None
    return int(key[len(prefix) :])


def symbol_meta_key(symbol: str) -> bytes:
    """The ``meta`` key recording that ``symbol`` has data."""
    return META_SYMBOL_PREFIX + symbol.encode("ascii")


def known_symbols(meta: Rdict) -> list[str]:
    """The symbols recorded in the ``meta`` family (a handful of keys, not a data scan)."""
    read = ReadOptions()
    read.set_iterate_lower_bound(META_SYMBOL_PREFIX)
    read.set_iterate_upper_bound(META_SYMBOL_PREFIX[:-1] + bytes([META_SYMBOL_PREFIX[-1] + 1]))
    it = meta.iter(read)
    it.seek(META_SYMBOL_PREFIX)
    symbols: list[str] = []
    while it.valid():
        key: bytes = it.key()
        symbols.append(check_symbol(key[len(META_SYMBOL_PREFIX) :].decode("ascii")))
        it.next()
    del it
    return symbols
