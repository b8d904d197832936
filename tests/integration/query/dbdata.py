"""Deterministic synthetic books and a real RocksDB primary to store them, for the query tests."""

from __future__ import annotations

import gc
import random
from collections.abc import Iterable
from pathlib import Path

from rocksdict import Rdict

from shared import storage
from shared.codec import record_key
from shared.fixedpoint import SCALE
from shared.model import LiveBook, Trade
from tests.support.seconds import Second

# (mid in whole units, tick as a scaled int)
MARKETS = {"BTCUSDT": (61_000, SCALE // 100), "ETHUSDT": (3_000, SCALE // 100)}


def synthetic_snapshot(symbol: str, second: int, levels: int = 20, session: int = 1) -> Second:
    """The book of ``symbol`` at the end of ``second``: a gentle random walk, 3-6 trades."""
    base, tick = MARKETS.get(symbol, (100, SCALE // 100))
    rng = random.Random(f"{symbol}:{second}")
    mid_ticks = base * SCALE // tick + (second % 600) - 300 + rng.randint(-5, 5)
    bid0 = (mid_ticks - 1) * tick
    ask0 = (mid_ticks + 1) * tick
    bids = tuple((bid0 - i * tick, rng.randint(1, 500) * SCALE // 100) for i in range(levels))
    asks = tuple((ask0 + i * tick, rng.randint(1, 500) * SCALE // 100) for i in range(levels))
    trades = tuple(
        Trade(
            agg_id=second * 10 + i,
            price=ask0 if i % 2 == 0 else bid0,
            qty=rng.randint(1, 200) * SCALE // 1000,
            ts_trade=second * 1000 + i * 100,
            buyer_maker=i % 2 == 1,
        )
        for i in range(rng.randint(3, 6))
    )
    return Second(
        symbol=symbol,
        second=second,
        session=session,
        seq=second,
        update_id=second * 7,
        ts_event=second * 1000 + 990,
        ts_recv=second * 1000 + 995,
        bids=bids,
        asks=asks,
        trades=trades,
    )


def live_book(symbol: str, second: int, seq: int, bid_shift: int = 0) -> LiveBook:
    """A live book from the synthetic snapshot, its bids moved down by ``bid_shift`` ticks."""
    snap = synthetic_snapshot(symbol, second, levels=100)
    _, tick = MARKETS[symbol]
    bids = tuple((price - bid_shift * tick, qty) for price, qty in snap.bids)
    return LiveBook(
        symbol=symbol,
        session=1,
        seq=seq,
        update_id=snap.update_id,
        ts_event=snap.ts_event,
        ts_recv=snap.ts_recv,
        bids=bids,
        asks=snap.asks,
    )


class Primary:
    """A real RocksDB primary opened through shared/storage.py, as the writer opens it."""

    def __init__(self, data_dir: Path) -> None:
        self.path = storage.db_path(data_dir)
        self.db: Rdict | None = storage.open_primary(self.path)

    def store(self, symbols: Iterable[str], seconds: Iterable[int]) -> int:
        assert self.db is not None
        snaps = self.db.get_column_family(storage.SNAPSHOTS_CF)
        trades = self.db.get_column_family(storage.TRADES_CF)
        meta = self.db.get_column_family(storage.META_CF)
        count = 0
        seconds = list(seconds)
        for symbol in symbols:
            meta[storage.symbol_meta_key(symbol)] = b""
            for second in seconds:
                snap = synthetic_snapshot(symbol, second)
                key = record_key(symbol, second)
                snaps[key], trades[key] = snap.values()
                count += 1
        del snaps, trades, meta
        return count

    def put_status(self, value: bytes) -> None:
        assert self.db is not None
        meta = self.db.get_column_family(storage.META_CF)
        meta[storage.STATUS_KEY] = value
        del meta

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
            gc.collect()  # release the LOCK so the "writer" can reopen in this process
