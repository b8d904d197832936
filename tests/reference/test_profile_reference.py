"""get_volume_profile (row path and the handler's column path) == its reference."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from query.analytics import (
    ParameterError,
    VolumeColumns,
    get_volume_profile,
    get_volume_profile_columns,
    rows_from_trades,
)
from shared.model import Trade
from tests.reference.compare import agree
from tests.reference.markets import TICKS
from tests.reference.profile import RefParameter, volume_profile


def random_trades(seed: int, n: int, tick: int, base: int, spread: int) -> list[Trade]:
    rng = random.Random(seed)
    return [
        Trade(
            i,
            max(1, base + rng.randint(-spread, spread)) * tick,
            rng.choice((1, rng.randint(1, 10**9), rng.randint(1, 10**15))),
            i,
            rng.random() < 0.5,
        )
        for i in range(n)
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 2**32),
    st.integers(0, 300),
    st.sampled_from(TICKS),
    st.sampled_from([1_234, 60_000, 6_000_000, 10**10 // 3]),
    st.sampled_from([0, 1, 5, 50, 400, 5000]),
    st.sampled_from([None, 1, 2, 3, 7, 100, 10**6]),
    st.booleans(),
)
def test_volume_profile_equals_the_reference(seed, n, tick, base, spread, multiple, known):
    trades = random_trades(seed, n, tick, base, spread)
    tick_size = None if multiple is None else multiple * tick + (tick // 2 if seed % 5 == 0 else 0)
    symbol_tick = tick if known else None
    args = {"symbol": "TESTUSDT", "start": 0, "end": 3600}
    args.update(tick_size=tick_size, symbol_tick=symbol_tick)

    def by_columns():
        columns = VolumeColumns()
        columns.add_trades(
            [t.price for t in trades], [t.qty for t in trades], [t.buyer_maker for t in trades]
        )
        return get_volume_profile_columns(columns.merged(), **args)

    def reference():
        return volume_profile(trades, 0, 3600, tick_size, symbol_tick)

    try:
        reference()
    except RefParameter:
        with pytest.raises(ParameterError):
            get_volume_profile(rows_from_trades(trades), **args)
        with pytest.raises(ParameterError):
            by_columns()
        return
    except Exception:  # RefInsufficient: agree() checks it
        pass
    agree(lambda: get_volume_profile(rows_from_trades(trades), **args), reference)
    agree(by_columns, reference)
