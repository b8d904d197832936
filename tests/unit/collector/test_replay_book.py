"""The book + sync engine against real Binance traffic: every @bookTicker checkpoint must match."""

from __future__ import annotations

import pytest

from collector.sync import BookSync, Phase, SnapshotVerdict
from collector.wire import DepthUpdate, parse_frame, parse_snapshot
from tests.unit.collector.recording import files, read_lines, ticker_levels


def replay(recordings, symbol: str) -> tuple[BookSync, int, int]:
    """Replay a symbol's files; returns (sync, checkpoints checked, events after the snapshot)."""
    lines = list(read_lines(*files(recordings, symbol)))
    tickers = {line.data["u"]: ticker_levels(line.data) for line in lines if line.kind == "ticker"}
    sync = BookSync()
    checked = 0
    for line in lines:
        if line.kind == "rest":
            assert sync.on_snapshot(parse_snapshot(line.raw)) is SnapshotVerdict.ACCEPTED
            continue
        if line.kind != "depth":
            continue
        event = parse_frame(line.raw)
        assert isinstance(event, DepthUpdate)
        sync.on_event(event, line.recv_ns // 1_000_000)
        if sync.synced and sync.update_id in tickers:
            bid, ask = tickers[sync.update_id]
            assert sync.book.best_bid() == bid, f"best bid at u={sync.update_id}"
            assert sync.book.best_ask() == ask, f"best ask at u={sync.update_id}"
            checked += 1
    return sync, checked, sync.stats.applied


@pytest.mark.parametrize(
    ("symbol", "checkpoints", "dropped"),
    [("BTCUSDT", 1072, 2), ("ETHUSDT", 577, 2)],
)
def test_book_matches_every_book_ticker_checkpoint(recordings, symbol, checkpoints, dropped):
    # Arrange / Act
    sync, checked, applied = replay(recordings, symbol)

    # Assert: every checkpoint of the recording was reached and matched, with no gap.
    assert checked == checkpoints
    assert sync.phase is Phase.SYNCED
    assert sync.stats.gaps == 0
    assert sync.stats.dropped == dropped
    assert applied > 3000
    assert not sync.book.crossed()


def test_top_levels_are_sorted_best_first(recordings):
    sync, _, _ = replay(recordings, "ETHUSDT")

    bids, asks = sync.book.top(20)

    assert len(bids) == len(asks) == 20
    assert [p for p, _ in bids] == sorted((p for p, _ in bids), reverse=True)
    assert [p for p, _ in asks] == sorted(p for p, _ in asks)
    assert bids[0][0] < asks[0][0]
    assert all(q > 0 for _, q in bids + asks)
