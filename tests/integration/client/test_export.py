"""``booksnap export`` beside a running writer, read back by DuckDB and polars, equals
``booksnap snapshots --json`` from the query process second by second, exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl

from tests.integration.client.conftest import SYMBOL, Stored, booksnap


def snapshots_json(stored: Stored, first: int, last: int) -> list[dict]:
    done = booksnap(
        "snapshots", SYMBOL, "--start", str(first), "--end", str(last), "--trades", "--json",
        "--endpoint", stored.query.endpoint,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def export(stored: Stored, out: Path, first: int, last: int, *extra: str):
    return booksnap(
        "export", SYMBOL, "--start", str(first), "--end", str(last), "--out", str(out),
        "--data-dir", str(stored.writer.data_dir), *extra,
    )  # fmt: skip


def expected_rows(records: list[dict]) -> list[tuple]:
    """One tuple per second from the JSON: the query process's own exact strings."""
    return [
        (
            r["second"],
            r["session"],
            r["seq"],
            r["update_id"],
            r["ts_event"],
            r["ts_recv"],
            [p for p, _ in r["bids"]],
            [q for _, q in r["bids"]],
            [p for p, _ in r["asks"]],
            [q for _, q in r["asks"]],
        )
        for r in records
    ]


def expected_trades(records: list[dict]) -> list[tuple]:
    return [
        (r["second"], t["agg_id"], t["price"], t["qty"], t["ts_trade"], t["taker_side"] == "sell")
        for r in records
        for t in r["trades"]
    ]


BOOK_SQL = """
SELECT second, session, seq, update_id, epoch_ms(ts_event), epoch_ms(ts_recv),
       bid_prices::VARCHAR[], bid_qtys::VARCHAR[], ask_prices::VARCHAR[], ask_qtys::VARCHAR[]
FROM read_parquet($path) ORDER BY second
"""
TRADE_SQL = """
SELECT second, agg_id, price::VARCHAR, qty::VARCHAR, epoch_ms(ts_trade), buyer_maker
FROM read_parquet($path) ORDER BY second, agg_id
"""


def polars_rows(path: Path) -> list[tuple]:
    as_text = pl.element().cast(pl.String)
    frame = pl.read_parquet(path).select(
        "second", "session", "seq", "update_id",
        pl.col("ts_event").dt.epoch("ms"), pl.col("ts_recv").dt.epoch("ms"),
        pl.col("bid_prices").list.eval(as_text), pl.col("bid_qtys").list.eval(as_text),
        pl.col("ask_prices").list.eval(as_text), pl.col("ask_qtys").list.eval(as_text),
    )  # fmt: skip
    return list(frame.iter_rows())


def test_export_read_back_by_duckdb_and_polars_equals_the_json(stored: Stored, tmp_path: Path):
    first, last = stored.first + 5, stored.last - 5
    records = snapshots_json(stored, first, last)
    assert len(records) == last - first + 1
    out = tmp_path / "btc.parquet"

    done = export(stored, out, first, last, "--trades")

    assert done.returncode == 0, done.stderr
    assert f"wrote {len(records):,} seconds" in done.stdout
    books = duckdb.execute(BOOK_SQL, {"path": str(out)}).fetchall()
    assert books == expected_rows(records)
    assert polars_rows(out) == expected_rows(records)
    trades_file = tmp_path / "btc.trades.parquet"
    trades = duckdb.execute(TRADE_SQL, {"path": str(trades_file)}).fetchall()
    assert trades == expected_trades(records)
    assert len(trades) > len(records)  # real seconds: many trades
    frame = pl.read_parquet(trades_file)
    assert frame["qty"].dtype == pl.Decimal(19, 8)
    assert [str(q) for q in frame["qty"].to_list()] == [t[3] for t in trades]
    # best bid/ask columns are the first level, as exact decimals
    best = duckdb.execute(
        "SELECT bid_price::VARCHAR, ask_qty::VARCHAR FROM read_parquet($p) ORDER BY second",
        {"p": str(out)},
    ).fetchall()
    assert best == [(r["bids"][0][0], r["asks"][0][1]) for r in records]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["btc.parquet", "btc.trades.parquet"]


def test_levels_keeps_the_best_n_of_each_side(stored: Stored, tmp_path: Path):
    out = tmp_path / "top3.parquet"
    done = export(stored, out, stored.first, stored.first + 9, "--levels", "3")
    assert done.returncode == 0, done.stderr

    table = pl.read_parquet(out)

    assert table.height == 10
    assert set(table["bid_prices"].list.len().to_list()) == {3}
    records = snapshots_json(stored, stored.first, stored.first + 9)
    assert [[Decimal(p) for p, _ in r["asks"][:3]] for r in records] == table[
        "ask_prices"
    ].to_list()


def test_export_refuses_to_overwrite_without_force(stored: Stored, tmp_path: Path):
    out = tmp_path / "keep.parquet"
    out.write_text("precious")

    refused = export(stored, out, stored.first, stored.first + 2)

    assert refused.returncode == 1
    assert "--force" in refused.stderr
    assert out.read_text() == "precious"
    forced = export(stored, out, stored.first, stored.first + 2, "--force")
    assert forced.returncode == 0, forced.stderr
    assert pl.read_parquet(out).height == 3


def test_export_of_a_missing_database_is_a_clear_error(tmp_path: Path):
    done = booksnap(
        "export", SYMBOL, "--start", "0", "--end", "10", "--out", str(tmp_path / "x.parquet"),
        "--data-dir", str(tmp_path / "nothing"),
    )  # fmt: skip

    assert done.returncode == 1
    assert "no booksnap database" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []
