"""Section: the history API (``booksnap.history``) reading a day of one symbol as Arrow batches,
beside the query process's own reader (``query.reader.SecondaryReader``) scanning the same rows.

Both read the same RocksDB database (``benchmarks.daydata``: a day of BTCUSDT-like seconds with
20 levels a side) through their own secondary instance, in the same process, alternately, so
machine noise hits both alike. The reader's scan decodes each stored book into its struct and
drops it (the cheapest thing it does); the history API reads the same bytes into the Arrow
columns (exact decimals, list columns of levels) without a Python object per level or trade.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq

from benchmarks.daydata import DAY, generate
from benchmarks.result import Budget, Row, Section, ms, verdict
from booksnap.columns import BOOK_SCHEMA
from booksnap.history import open_history
from booksnap.parquet_file import AtomicParquet
from query.reader import SecondaryReader
from shared import storage

GOAL_RATIO = 1.0  # the history read must be at least as fast as the reader's scan
PAGE = 3_600  # query_snapshots' largest page


def _interleaved(calls: dict[str, Callable[[], int]], reps: int) -> dict[str, list[float]]:
    """Seconds per call of each, alternating; the first round warms the block cache (not kept)."""
    for call in calls.values():
        call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(reps):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - started)
    return samples


def run(budget: Budget) -> Section:
    section = Section(
        "history",
        "History API: a day of one symbol as Arrow, beside the query reader",
        "python -m benchmarks history",
    )
    seconds = 3_600 if budget.smoke else DAY
    reps = 2 if budget.smoke else 5
    with tempfile.TemporaryDirectory(prefix="booksnap-history-") as tmp:
        day = generate(Path(tmp), seconds)
        sym, first, last = day.symbol, day.first, day.end - 1
        reader = SecondaryReader(storage.db_path(day.data_dir), Path(tmp) / "reader-secondary")
        reader.refresh()
        largest = [0]

        def history_books() -> int:
            rows = 0
            for batch in history.iter_batches(sym, first, last):
                rows += batch.num_rows
                largest[0] = max(largest[0], batch.nbytes)
            return rows

        def reader_pages() -> int:
            # What query_snapshots does for each page: a list of up to 3,600 decoded books.
            rows = 0
            for start in range(first, last + 1, PAGE):
                rows += len(list(reader.iter_snapshots(sym, start, min(start + PAGE - 1, last))))
            return rows

        with open_history(day.data_dir) as history:
            calls: dict[str, Callable[[], int]] = {
                "reader books": lambda: sum(1 for _ in reader.iter_snapshots(sym, first, last)),
                "reader pages": reader_pages,
                "history books": history_books,
                "reader trades": lambda: sum(1 for _ in reader.iter_trades(sym, first, last)),
                "history trades": lambda: sum(
                    b.num_rows for b in history.iter_trade_batches(sym, first, last)
                ),
            }
            rows = {name: call() for name, call in calls.items()}
            samples = _interleaved(calls, reps)
            table_bytes = history.read(sym, first, last).nbytes
            out = Path(tmp) / "day.parquet"
            started = time.perf_counter()
            file = AtomicParquet(out, BOOK_SCHEMA)
            for batch in history.iter_batches(sym, first, last):
                file.write(batch)
            file.commit()
            export_s = time.perf_counter() - started
            parquet_bytes = out.stat().st_size
            assert pq.read_metadata(out).num_rows == rows["history books"]
        reader.close()
    med = {name: statistics.median(values) for name, values in samples.items()}
    best = {name: min(values) for name, values in samples.items()}
    for what, unit in (("books", "seconds"), ("trades", "trades")):
        hist, ref = med[f"history {what}"], med[f"reader {what}"]
        hist_best, ref_best = best[f"history {what}"], best[f"reader {what}"]
        per_second = rows[f"history {what}"] / hist
        ratio = hist / ref
        section.rows.append(
            Row(
                f"history API, {seconds:,} s of {what} → Arrow batches (median of {reps})",
                f"{ms(hist)} ({per_second:,.0f} {unit}/s; best {ms(hist_best)})",
                f"query reader scanning the same rows: {ms(ref)} (best {ms(ref_best)})",
                f"{ratio:.2f}x",
                f"≤ {GOAL_RATIO:.2f}x the reader",
                verdict(ratio <= GOAL_RATIO),
            )
        )
    section.rows.append(
        Row(
            f"the same {seconds:,} s of books read as the query process pages them",
            f"history API {ms(med['history books'])}",
            f"query reader collecting pages of {PAGE:,} snapshots (as `query_snapshots`): "
            f"{ms(med['reader pages'])}",
            f"{med['history books'] / med['reader pages']:.2f}x",
        )
    )
    section.rows.append(
        Row(
            "largest RecordBatch in memory while streaming (3,600 s a batch)",
            f"{largest[0] / 1e6:,.1f} MB",
            f"the whole day as one table: {table_bytes / 1e6:,.1f} MB",
        )
    )
    section.rows.append(
        Row(
            "export of the day's books to Parquet (zstd), streamed",
            f"{export_s * 1000:,.0f} ms, {parquet_bytes / 1e6:,.1f} MB",
            f"{rows['history books']:,} rows",
        )
    )
    books_ratio = med["history books"] / med["reader books"]
    section.notes = [
        f"{seconds:,} stored seconds of {sym} ({rows['reader trades']:,} aggregate trades), "
        "20 levels a side; both sides of the comparison run in this process, alternately, on "
        "their own RocksDB secondary of the same database, after one warm-up round each.",
        "The reader decodes every stored value with `shared.codec` (msgspec into the "
        "`shared.model` structs: a Python int per price and quantity) and drops it. The history "
        "API takes a run of ~4 MB of stored values apart at once (`shared.envelope`, "
        "`shared.scan`: the same field of every record with a few numpy operations) and reads "
        "all their level and trade arrays into int64 columns (`shared.unpack`: the compiled "
        "walk of `shared/walk.pyx`, one loop over each array's bytes; anything off msgspec's "
        "own encoding goes through the typed decode), then builds decimal128 and list columns.",
    ]
    paged_ratio = med["history books"] / med["reader pages"]
    trades_ratio = med["history trades"] / med["reader trades"]
    section.reading = (
        f"Reading a day of books as Arrow takes {books_ratio:.2f}x the time the query reader "
        "needs to merely scan and decode the same rows, and "
        f"{paged_ratio:.2f}x what it needs to collect them in pages as `query_snapshots` does"
        + (
            ": the history API is at least as fast as the reader."
            if books_ratio <= GOAL_RATIO
            else ". The history API is slower than the reader's bare scan here."
        )
        + f" Its trades take {trades_ratio:.2f}x the time of the reader's scan of them"
        + (" (at least as fast)." if trades_ratio <= GOAL_RATIO else " (slower).")
        + f" Memory stays bounded: one batch is {largest[0] / 1e6:,.1f} MB against "
        f"{table_bytes / 1e6:,.0f} MB for the whole table."
    )
    return section
