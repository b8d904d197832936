"""A Parquet file appears whole or not at all."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from booksnap.parquet_file import AtomicParquet, trades_path

SCHEMA = pa.schema([("x", pa.int64())])


def batch(n: int) -> pa.RecordBatch:
    return pa.record_batch([pa.array(range(n))], schema=SCHEMA)


def test_commit_renames_the_complete_file_into_place(tmp_path):
    out = tmp_path / "a.parquet"
    out.write_text("old")
    file = AtomicParquet(out, SCHEMA)
    file.write(batch(3))
    file.write(batch(2))

    assert out.read_text() == "old"  # untouched until the end
    file.commit()

    assert pq.read_table(out).num_rows == 5
    assert [p.name for p in tmp_path.iterdir()] == ["a.parquet"]


def test_abort_leaves_nothing_behind(tmp_path):
    out = tmp_path / "a.parquet"
    file = AtomicParquet(out, SCHEMA)
    file.write(batch(3))

    file.abort()

    assert list(tmp_path.iterdir()) == []


def test_an_error_while_writing_leaves_nothing(tmp_path):
    file = AtomicParquet(tmp_path / "a.parquet", SCHEMA)
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, ValueError)):
        file.write(pa.record_batch([pa.array(["not an int"])], names=["x"]))
    file.abort()

    assert list(tmp_path.iterdir()) == []


def test_trades_file_sits_beside_the_books_file(tmp_path):
    assert trades_path(tmp_path / "btc.parquet") == tmp_path / "btc.trades.parquet"
    assert trades_path(tmp_path / "btc") == tmp_path / "btc.trades.parquet"
