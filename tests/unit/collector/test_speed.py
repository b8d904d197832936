"""The book engine's speed on the real recordings, against only JSON-parsing the same frames.

Run with ``-s`` to see the figures: ``pytest tests/unit/collector/test_speed.py -s``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import orjson

from collector.sync import BookSync
from collector.wire import DepthUpdate, parse_frame, parse_snapshot
from tests.unit.collector.recording import files, read_lines


def best_rate(count: int, run: Callable[[], None], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return count / best


def test_engine_rate_is_within_a_small_factor_of_json_parsing(recordings):
    lines = list(read_lines(*files(recordings, "BTCUSDT")))
    snapshot = next(line.raw for line in lines if line.kind == "rest")
    frames = [line.raw for line in lines if line.kind == "depth"]

    def engine() -> None:
        sync = BookSync()
        for raw in frames:
            event = parse_frame(raw)
            assert isinstance(event, DepthUpdate)
            sync.on_event(event)
            if sync.wants_snapshot() and sync.buffered == 3:
                sync.on_snapshot(parse_snapshot(snapshot))
        assert sync.synced

    def parse_json() -> None:
        for raw in frames:  # each result dropped at once, as a parser-only consumer would
            json.loads(raw)

    def parse_orjson() -> None:
        for raw in frames:
            orjson.loads(raw)

    json_rate = best_rate(len(frames), parse_json)
    orjson_rate = best_rate(len(frames), parse_orjson)
    engine_rate = best_rate(len(frames), engine)
    print(
        f"\n{len(frames)} depth events (~46 level updates each): json.loads {json_rate:,.0f}/s, "
        f"orjson.loads {orjson_rate:,.0f}/s, parse+sync+book {engine_rate:,.0f}/s "
        f"({json_rate / engine_rate:.1f}x json.loads, {orjson_rate / engine_rate:.1f}x orjson)"
    )
    # Generous bound: the machine is shared and noisy; the figures are what matter.
    assert engine_rate > json_rate / 10
