"""The history API on a real writer's database, while the writer keeps storing seconds."""

from __future__ import annotations

import time
from decimal import Decimal

import pyarrow as pa
import pytest

from booksnap import history as history_module
from booksnap.history import HistoryUnavailable, open_history
from tests.integration.client.conftest import SYMBOL, Stored
from tests.integration.writer.harness import FakeCollector, series
from tests.support.seconds import Second


def amount(scaled: int) -> Decimal:
    """The reference: the stored int as its 8-decimal number (no booksnap code)."""
    whole, frac = divmod(scaled, 100_000_000)
    return Decimal(f"{whole}.{frac:08d}")


def check_rows(rows: list[dict], sent: dict[int, Second]) -> None:
    """Every row equals the second that was published for it, level by level."""
    for row in rows:
        second = sent[row["second"]]
        assert row["update_id"] == second.update_id
        assert (row["session"], row["seq"]) == (second.session, second.seq)
        assert round(row["ts_event"].timestamp() * 1000) == second.ts_event
        assert row["bid_prices"] == [amount(p) for p, _ in second.bids]
        assert row["ask_qtys"] == [amount(q) for _, q in second.asks]
        assert row["bid_price"] == amount(second.bids[0][0])


def test_history_reads_while_the_writer_writes(stored: Stored):
    later = series(SYMBOL, stored.last + 1, 90, session=8)
    sent = {s.second: s for s in [*stored.seconds, *later]}
    with open_history(stored.writer.data_dir) as history:
        before = history.read(SYMBOL, stored.first, stored.last)
        assert before.column("second").to_pylist() == [s.second for s in stored.seconds]
        check_rows(before.to_pylist(), sent)

        collector = FakeCollector(stored.context, stored.writer, later, interval=0.03)
        collector.start()
        try:
            seen = []
            while not collector.finished():
                history.refresh()
                rows = history.read(SYMBOL, stored.first, later[-1].second).to_pylist()
                seconds = [row["second"] for row in rows]
                assert seconds == sorted(set(seconds))  # ascending, each second once
                check_rows(rows, sent)
                seen.append(len(rows))
                time.sleep(0.2)
            stored.writer.wait_stored(SYMBOL, {s.second for s in later})
        finally:
            collector.stop()
        history.refresh()

        everything = history.read(SYMBOL, stored.first, later[-1].second)
        assert everything.num_rows == len(sent)
        check_rows(everything.to_pylist(), sent)
        assert seen == sorted(seen)  # never went backwards while the writer wrote
        assert len(seen) >= 2
        assert seen[0] < len(sent)  # a read happened before the writer had everything
        coverage = {c.symbol: c for c in history.symbols()}[SYMBOL]
        assert coverage.first == stored.first
        assert (coverage.last or 0) >= later[-1].second  # other tests may store newer seconds
        assert coverage.count >= len(sent)

        trades = history.trades(SYMBOL, stored.first, stored.last)
        expected = [
            (s.second, t.agg_id, amount(t.price), amount(t.qty), t.buyer_maker)
            for s in stored.seconds
            for t in s.trades
        ]
        got = [
            (r["second"], r["agg_id"], r["price"], r["qty"], r["buyer_maker"])
            for r in trades.to_pylist()
        ]
        assert got == expected


@pytest.mark.parametrize("run_chunk", [None, 7])  # one run for all, or runs of 7 seconds
def test_batches_are_bounded_and_concatenate_to_the_table(stored: Stored, monkeypatch, run_chunk):
    if run_chunk is not None:  # runs then end across batches: batches are cut from them
        monkeypatch.setattr(history_module, "RUN_BYTES", 1)
        monkeypatch.setattr(history_module, "RUN_CHUNK", run_chunk)
    with open_history(stored.writer.data_dir) as history:
        batches = list(history.iter_batches(SYMBOL, stored.first, stored.last, batch_seconds=25))
        trades = list(
            history.iter_trade_batches(SYMBOL, stored.first, stored.last, batch_seconds=25)
        )
        whole = history.read(SYMBOL, stored.first, stored.last)
        all_trades = history.trades(SYMBOL, stored.first, stored.last)

    assert [b.num_rows for b in batches[:-1]] == [25] * (len(batches) - 1)
    assert sum(b.num_rows for b in batches) == whole.num_rows == len(stored.seconds)
    assert pa.Table.from_batches(batches).equals(whole)
    assert pa.Table.from_batches(trades).equals(all_trades)
    assert all(len(set(b.column("second").to_pylist())) <= 25 for b in trades)
    assert all_trades.num_rows == sum(len(s.trades) for s in stored.seconds)


def test_history_leaves_no_secondary_directory_and_rejects_bad_input(stored: Stored, tmp_path):
    history = open_history(stored.writer.data_dir)
    private = history._secondary_dir
    assert private.is_dir()
    with pytest.raises(ValueError, match="before start"):
        history.read(SYMBOL, stored.last, stored.first)
    with pytest.raises(ValueError, match="levels"):
        history.read(SYMBOL, stored.first, stored.last, levels=0)
    with pytest.raises(ValueError, match="invalid symbol"):
        history.read("btc-usdt", stored.first, stored.last)
    history.close()
    assert not private.exists()
    with pytest.raises(HistoryUnavailable):
        open_history(tmp_path)


def test_a_batch_ends_early_when_it_holds_too_many_levels(stored: Stored, monkeypatch):
    monkeypatch.setattr(history_module, "MAX_BATCH_LEVELS", 100)
    monkeypatch.setattr(history_module, "MAX_BATCH_TRADES", 10)
    monkeypatch.setattr(history_module, "RUN_BYTES", 1)  # a run is then one chunk of values
    monkeypatch.setattr(history_module, "RUN_CHUNK", 5)
    with open_history(stored.writer.data_dir) as history:
        books = list(history.iter_batches(SYMBOL, stored.first, stored.last))
        trades = list(history.iter_trade_batches(SYMBOL, stored.first, stored.last))

    # one run of 5 seconds already holds more than 100 levels / 10 trades
    assert {b.num_rows for b in books[:-1]} == {5}
    assert sum(b.num_rows for b in books) == len(stored.seconds)
    assert sum(b.num_rows for b in trades) == sum(len(s.trades) for s in stored.seconds)
    assert len(trades) > 1
