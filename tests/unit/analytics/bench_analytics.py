"""Hand-run timing of every tool (not a test): python -m tests.unit.analytics.bench_analytics."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from query.analytics import (
    ANOMALIES_HISTORY,
    FLOW_HISTORY,
    HEALTH_HISTORY,
    History,
    PriceVolume,
    detect_market_anomalies,
    get_liquidity_vacuums,
    get_microstructure_health,
    get_order_flow,
    get_volume_profile,
    orderbook_l1,
    orderbook_l2,
)
from tests.unit.analytics.markets import calm_market
from tests.unit.analytics.replay import btcusdt


def best_ms(run: Callable[[], object], repeat: int = 20) -> float:
    """Best of ``repeat`` runs, in ms (the machine is shared: the best run is the fairest)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000


def main() -> None:
    replay = btcusdt()
    end = replay.snapshots[-1].second + 1
    start = end - 60

    def window(tool: History, seconds: int = 60) -> tuple[list, list]:
        low = end - seconds - tool.snapshots
        snaps = [s for s in replay.snapshots if low <= s.second < end]
        trades = [t for t in replay.trades if low * 1000 <= t.ts_trade < end * 1000]
        return snaps, trades

    args: dict[str, Any] = {"symbol": "BTCUSDT", "window_start": start, "window_end": end}
    snaps, trades = window(FLOW_HISTORY)
    report(
        f"order flow 60 s ({len(snaps)} snaps, {len(trades)} trades)",
        lambda: get_order_flow(snaps, trades, **args),
    )
    snaps, trades = window(HEALTH_HISTORY)
    window_trades = [t for t in trades if t.ts_trade >= start * 1000]
    report(
        f"health 60 s + 600 s baseline ({len(snaps)} snaps, {len(window_trades)} trades)",
        lambda: get_microstructure_health(snaps, window_trades, **args),
    )
    few = [s for s in snaps if s.second >= end - 120]
    report(
        f"health, 120 snapshots only ({len(window_trades)} trades)",
        lambda: get_microstructure_health(few, window_trades, **args),
    )
    snaps, trades = window(ANOMALIES_HISTORY)
    report(
        f"anomalies 60 s + 600 s baseline ({len(snaps)} snaps, {len(trades)} trades)",
        lambda: detect_market_anomalies(snaps, trades, **args),
        5,
    )
    hour, _ = calm_market(random.Random(1), 0, 3600)
    report(
        "vacuums 1 h (3600 synthetic 20-level snaps)",
        lambda: get_liquidity_vacuums(hour, symbol="TESTUSDT", start=0, end=3600),
        3,
    )
    rng = random.Random(2)
    prices = [(6_000_000 + rng.randrange(-20_000, 20_000)) * 1_000_000 for _ in range(1440 * 300)]
    rows = [PriceVolume(p, rng.randrange(1, 10**8), 3, 0) for p in prices]
    report(
        f"volume profile 24 h of per-minute rows ({len(rows)} rows)",
        lambda: get_volume_profile(
            rows, symbol="TESTUSDT", start=0, end=86400, tick_size=None, symbol_tick=1_000_000
        ),
        3,
    )
    book = replay.final_book
    report("orderbook_l1 (100 levels)", lambda: orderbook_l1(book, now_ms=0))
    report("orderbook_l2 (levels=100)", lambda: orderbook_l2(book, levels=100, now_ms=0))


def report(name: str, run: Callable[[], object], repeat: int = 20) -> None:
    print(f"{name}: {best_ms(run, repeat):.2f} ms")


if __name__ == "__main__":
    main()
