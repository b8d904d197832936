"""A full day of BTCUSDT-like data, stored through the writer's own store and as Parquet.

The ~650 real seconds of the BTCUSDT recordings are looped: each pass is shifted in time and its
prices moved by a small seeded random step (±$20 per pass), so the day has realistic books,
realistic trade bursts and a slowly wandering price. The recorded ``@trade`` events of each
second are grouped into aggregate trades with the simulator's own rule (same trade time, price,
side and consecutive ids), because the collector stores ``@aggTrade`` events.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from shared import storage
from shared.model import Level, Trade
from simulator.market import TradeEvent, aggregate_trades
from tests.integration.writer.recorded import recorded
from tests.support.seconds import Second
from writer.store import SnapshotStore

DAY = 86_400
TICK = 1_000_000  # BTCUSDT tickSize 0.01, scaled
DRIFT_TICKS = 2_000  # at most ±$20 between passes
BATCH = 3_600


@dataclass
class DayData:
    """Where the day is stored and what it holds."""

    symbol: str
    first: int  # first stored second
    end: int  # exclusive: the last stored second is end - 1
    raw_trades: int  # recorded trades looped over the day
    agg_trades: int  # aggregate trades stored
    data_dir: Path
    snapshots_parquet: Path
    trades_parquet: Path
    seconds_to_generate: float

    @property
    def seconds(self) -> int:
        return self.end - self.first


def _aggregate(symbol: str, trades: tuple[Trade, ...]) -> list[Trade]:
    events = [
        TradeEvent(symbol, t.agg_id, t.price, t.qty, t.ts_trade, t.ts_trade, t.buyer_maker)
        for t in trades
    ]
    return [
        Trade(a.agg_id, a.price, a.qty, a.trade_ms, a.buyer_maker)
        for a in aggregate_trades(events, 0)
    ]


def _moved(levels: tuple[Level, ...], offset: int) -> tuple[Level, ...]:
    return tuple((p + offset, q) for p, q in levels)


def generate(data_dir: Path, seconds: int = DAY, symbol: str = "BTCUSDT") -> DayData:
    """Write ``seconds`` seconds ending two seconds ago to ``data_dir`` (RocksDB and Parquet)."""
    started = time.perf_counter()
    base = [(snap, _aggregate(symbol, snap.trades)) for snap in recorded(symbol)]
    uid_span = base[-1][0].update_id - base[0][0].update_id + 1
    end = int(time.time()) - 2
    first = end - seconds
    rng = random.Random(20240809)
    store = SnapshotStore(storage.db_path(data_dir))
    store.open()
    snap_cols: dict[str, list[object]] = {
        k: [] for k in ("second", "bid_price", "bid_qty", "ask_price", "ask_qty")
    }
    trade_cols: dict[str, list[object]] = {
        k: [] for k in ("second", "ts_trade", "agg_id", "price", "qty", "buyer_maker")
    }
    offset = 0
    agg_id = 1_000_000_000
    raw_trades = agg_trades = 0
    batch = []
    for i in range(seconds):
        loop, j = divmod(i, len(base))
        if j == 0 and i:
            offset += rng.randint(-DRIFT_TICKS, DRIFT_TICKS) * TICK
        real, aggs = base[j]
        second = first + i
        shift = (second - real.second) * 1000
        trades = tuple(
            Trade(agg_id + k, t.price + offset, t.qty, t.ts_trade + shift, t.buyer_maker)
            for k, t in enumerate(aggs)
        )
        agg_id += len(trades)
        raw_trades += len(real.trades)
        agg_trades += len(trades)
        snap = Second(
            symbol=symbol,
            second=second,
            session=1,
            seq=i + 1,
            update_id=real.update_id + loop * uid_span,
            ts_event=real.ts_event + shift if real.ts_event else second * 1000,
            ts_recv=real.ts_recv + shift if real.ts_recv else second * 1000,
            bids=_moved(real.bids, offset),
            asks=_moved(real.asks, offset),
            trades=trades,
        )
        batch.append(snap.record(0.0))
        if len(batch) >= BATCH:
            store.write(batch)
            batch = []
        snap_cols["second"].append(second)
        snap_cols["bid_price"].append([p for p, _ in snap.bids])
        snap_cols["bid_qty"].append([q for _, q in snap.bids])
        snap_cols["ask_price"].append([p for p, _ in snap.asks])
        snap_cols["ask_qty"].append([q for _, q in snap.asks])
        for t in trades:
            trade_cols["second"].append(second)
            trade_cols["ts_trade"].append(t.ts_trade)
            trade_cols["agg_id"].append(t.agg_id)
            trade_cols["price"].append(t.price)
            trade_cols["qty"].append(t.qty)
            trade_cols["buyer_maker"].append(t.buyer_maker)
    if batch:
        store.write(batch)
    store.close()
    parquet = data_dir / "parquet"
    parquet.mkdir(parents=True, exist_ok=True)
    snaps_path, trades_path = parquet / "snapshots.parquet", parquet / "trades.parquet"
    pq.write_table(pa.table(snap_cols), snaps_path)
    pq.write_table(pa.table(trade_cols), trades_path)
    return DayData(
        symbol,
        first,
        end,
        raw_trades,
        agg_trades,
        data_dir,
        snaps_path,
        trades_path,
        time.perf_counter() - started,
    )
