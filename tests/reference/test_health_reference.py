"""get_microstructure_health == its reference, with and without a baseline."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from query.analytics import get_microstructure_health
from tests.reference.compare import agree
from tests.reference.health import health
from tests.reference.markets import START, Shape, market, shapes


def check_health(snaps, trades, start: int, end: int, symbol: str = "TESTUSDT") -> bool:
    def production():
        result = get_microstructure_health(
            snaps, trades, symbol=symbol, window_start=start, window_end=end
        )
        # The action's wording is the code's; the docs define that it names the weakest part.
        action = result["recommended_action"]
        weakest = min(result["components"], key=lambda k: (result["components"][k]["score"], k))
        assert result["health_level"] == "Excellent" or weakest in action
        result["recommended_action"] = weakest
        return result

    def reference():
        return health(snaps, trades, start, end)

    return agree(production, reference)


@settings(max_examples=100, deadline=None)
@given(shapes())
def test_health_without_baseline_equals_the_reference(shape: Shape):
    snaps, trades = market(shape)
    check_health(snaps, trades, START, START + shape.seconds)


@settings(max_examples=25, deadline=None)
@given(shapes(st.sampled_from([1, 5, 20]), seconds=st.integers(75, 90)))
def test_health_with_baseline_equals_the_reference(shape: Shape):
    snaps, trades = market(shape)
    check_health(snaps, trades, START + 65, START + shape.seconds)
