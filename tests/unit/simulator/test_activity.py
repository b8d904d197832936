"""Zipf-distributed activity of the synthetic market: a few busy symbols, most quiet, some
silent for tens of seconds, and the same market for the same seed."""

from __future__ import annotations

import itertools

from simulator.market import DepthEvent
from simulator.orderflow import zipf_activity
from simulator.synthetic_source import SyntheticSource

SYMBOLS = tuple(f"Q{i}USDT" for i in range(1, 11))


def depth_times(source: SyntheticSource, seconds: int) -> dict[str, list[int]]:
    times: dict[str, list[int]] = {s: [] for s in source.symbols}
    for now_ms in range(100, seconds * 1000 + 1, 100):
        for event in source.advance(now_ms):
            if isinstance(event, DepthEvent):
                times[event.symbol].append(now_ms)
    return times


def test_activity_follows_zipf_by_rank():
    assert zipf_activity(4, 0.0) == [1.0, 1.0, 1.0, 1.0]
    assert zipf_activity(4, 2.0) == [1.0, 1 / 4, 1 / 9, 1 / 16]


def test_the_first_symbol_stays_busy_and_the_last_is_quiet_with_long_silences():
    times = depth_times(SyntheticSource(SYMBOLS, seed=7, start_ms=0, zipf=2.0), 600)

    busy, quiet = times[SYMBOLS[0]], times[SYMBOLS[-1]]
    assert len(busy) >= 5500  # a diff nearly every 100 ms step
    assert len(quiet) <= len(busy) / 5
    gaps = [b - a for a, b in itertools.pairwise(quiet)]
    assert max(gaps) >= 10_000  # silent for tens of seconds at least once in 10 minutes
    assert sum(1 for g in gaps if g >= 2000) >= 10  # and quiet for seconds many times


def test_the_same_seed_gives_the_same_market():
    first = depth_times(SyntheticSource(SYMBOLS[:3], seed=3, start_ms=0, zipf=1.5), 60)
    again = depth_times(SyntheticSource(SYMBOLS[:3], seed=3, start_ms=0, zipf=1.5), 60)
    other = depth_times(SyntheticSource(SYMBOLS[:3], seed=4, start_ms=0, zipf=1.5), 60)

    assert first == again
    assert first != other
