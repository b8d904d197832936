"""The writer's cheap lag histogram exposes what prometheus-client's own Histogram would."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Histogram

from shared.metrics import LAG_BUCKETS
from writer.metrics import _Buckets

values = st.lists(
    st.one_of(st.sampled_from(LAG_BUCKETS), st.floats(-5, 100, allow_nan=False)), max_size=200
)


@given(values)
def test_buckets_equal_the_library_histogram(observed: list[float]) -> None:
    registry = CollectorRegistry()
    reference = Histogram("lag", "lag", registry=registry, buckets=LAG_BUCKETS)
    mine = _Buckets(LAG_BUCKETS)
    for value in observed:
        reference.observe(value)
        mine.observe(value)
    samples = next(iter(registry.collect())).samples
    expected = {s.labels["le"]: s.value for s in samples if s.name == "lag_bucket"}
    pairs, total = mine.exposed()
    assert dict(pairs) == expected
    assert total == next(s.value for s in samples if s.name == "lag_sum")
