"""Every tool == its reference on windows of the real Binance recordings (BTCUSDT, ETHUSDT).

Windows step through each recording; the data handed over is what the query process would load
(each tool's HISTORY). Kept to a few tens of seconds of CPU: the references are slow on purpose.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from query.analytics import (
    FLOW_HISTORY,
    HEALTH_HISTORY,
    QUALITY_HISTORY,
    History,
    ParameterError,
    get_liquidity_vacuums,
    get_volume_profile,
    orderbook_l1,
    orderbook_l2,
    rows_from_trades,
)
from shared.model import Trade
from tests.reference.compare import agree
from tests.reference.orderbook import l1, l2
from tests.reference.profile import RefParameter, volume_profile
from tests.reference.test_flow_reference import check_flow
from tests.reference.test_health_reference import check_health
from tests.reference.test_quality_reference import check_quality
from tests.reference.test_vacuums_reference import check_vacuums
from tests.reference.vacuums import vacuums
from tests.unit.analytics.replay import Replay, btcusdt, ethusdt

REPLAYS = {"BTCUSDT": btcusdt, "ETHUSDT": ethusdt}


@pytest.fixture(params=sorted(REPLAYS), scope="module")
def replay(request) -> Replay:
    return REPLAYS[request.param]()


def load(replay: Replay, history: History, start: int, end: int):
    snaps = [s for s in replay.snapshots if start - history.snapshots <= s.second <= end]
    trades = [
        t for t in replay.trades if (start - history.trades) * 1000 <= t.ts_trade < (end + 1) * 1000
    ]
    return snaps, trades


def windows(replay: Replay, length: int, step: int, history: int = 0) -> list[tuple[int, int]]:
    first = replay.snapshots[0].second + history
    last = replay.snapshots[-1].second + 1
    return [(s, s + length) for s in range(first, last - length + 1, step)]


def test_order_flow_on_every_minute(replay):
    compared = 0
    for start, end in windows(replay, 60, 5, 1):
        snaps, trades = load(replay, FLOW_HISTORY, start, end)
        compared += check_flow(snaps, trades, start, end, replay.symbol)
    assert compared >= 10


def test_market_quality_on_five_minute_windows(replay):
    compared = 0
    for start, end in windows(replay, 300, 15, 1):
        snaps, trades = load(replay, QUALITY_HISTORY, start, end)
        compared += check_quality(snaps, trades, start, end, replay.symbol)
    assert compared >= 1


def test_health_with_the_history_there_is(replay):
    compared = 0
    for start, end in windows(replay, 60, 10, 61):
        snaps, trades = load(replay, HEALTH_HISTORY, start, end)
        compared += check_health(snaps, trades, start, end, replay.symbol)
    assert compared >= 1


def test_vacuums_and_profile_over_the_whole_recording(replay):
    start, end = replay.snapshots[0].second, replay.snapshots[-1].second + 1
    snaps = list(replay.snapshots)
    assert agree(
        lambda: get_liquidity_vacuums(snaps, symbol=replay.symbol, start=start, end=end),
        lambda: vacuums(snaps, start, end, Decimal("0.2")),
    )
    trades: list[Trade] = list(replay.trades)
    compared = 0
    for tick_size in (None, 10**7, 10**8, 10**9):

        def production(tick_size=tick_size):
            rows = rows_from_trades(trades)
            return get_volume_profile(
                rows,
                symbol=replay.symbol,
                start=start,
                end=end,
                tick_size=tick_size,
                symbol_tick=None,
            )

        try:
            expected = volume_profile(trades, start, end, tick_size, None)
        except RefParameter:
            with pytest.raises(ParameterError):
                production()
            continue
        compared += agree(
            production, lambda expected=expected: {**expected, "symbol": replay.symbol}
        )
    assert compared >= 2


def check_profile(trades: list[Trade], start: int, end: int, symbol: str) -> bool:
    """The row path against the reference with automatic bins from the derived tick."""
    return agree(
        lambda: get_volume_profile(
            rows_from_trades(trades),
            symbol=symbol,
            start=start,
            end=end,
            tick_size=None,
            symbol_tick=None,
        ),
        lambda: {**volume_profile(trades, start, end, None, None), "symbol": symbol},
    )


def test_l1_and_l2_of_the_final_book(replay):
    book = replay.final_book
    now = book.ts_recv + 250
    assert agree(lambda: orderbook_l1(book, now_ms=now), lambda: l1(book, now))
    assert agree(lambda: orderbook_l2(book, levels=100, now_ms=now), lambda: l2(book, 100, now))


def test_vacuums_and_profile_on_every_two_minute_window(replay):
    compared = 0
    for start, end in windows(replay, 120, 30):
        snaps = [s for s in replay.snapshots if start <= s.second < end]
        trades = [t for t in replay.trades if start * 1000 <= t.ts_trade < end * 1000]
        compared += check_vacuums(snaps, start, end, 0.2, replay.symbol)
        compared += check_profile(trades, start, end, replay.symbol)
    assert compared >= 8
