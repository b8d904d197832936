"""get_market_quality == its reference on random markets of 60-75 seconds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from query.analytics import get_market_quality
from tests.reference.compare import agree
from tests.reference.markets import START, Shape, market, shapes
from tests.reference.quality import market_quality


def check_quality(snaps, trades, start: int, end: int, symbol: str = "TESTUSDT") -> bool:
    return agree(
        lambda: get_market_quality(
            snaps, trades, symbol=symbol, window_start=start, window_end=end
        ),
        lambda: market_quality(snaps, trades, start, end),
    )


@settings(max_examples=60, deadline=None)
@given(shapes(st.sampled_from([1, 3, 12]), seconds=st.integers(60, 75)))
def test_market_quality_equals_the_reference(shape: Shape):
    snaps, trades = market(shape)
    check_quality(snaps, trades, START, START + 60)
