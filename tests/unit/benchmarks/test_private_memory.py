"""USS and PSS from smaps_rollup, checked against psutil's own reading of the same process."""

from __future__ import annotations

import os

import psutil

from benchmarks.peers import Cost
from benchmarks.pipeline import private_memory


def test_private_memory_agrees_with_psutil():
    uss, pss = private_memory(os.getpid())
    full = psutil.Process().memory_full_info()
    assert abs(uss - full.uss / 2**20) < 2.0  # MB; the process moves a little between reads
    assert abs(pss - full.pss / 2**20) < 2.0
    assert 0 < uss <= pss <= full.rss / 2**20 + 2.0


def test_cost_per_symbol_and_per_event():
    cost = Cost(cpu_seconds=0.5, window=10.0, uss_mb=40.0, pss_mb=60.0, events=2000)
    assert cost.per_symbol(20) == (0.25, 2.0, 3.0)
    assert cost.us_per_event == 250.0
    assert Cost(0.5, 10.0, 1.0, 1.0, 0).us_per_event == 0.0
