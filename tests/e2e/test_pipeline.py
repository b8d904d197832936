"""The pipeline as users meet it: every process real, started as the demo Procfile does."""

from __future__ import annotations

import functools
import json
import re
import signal
import statistics
import subprocess
import time
from typing import Any

import pytest

from booksnap.client import QueryClient
from tests.support.logs import stored_seconds
from tests.support.pipeline import SYMBOLS, Pipeline
from tests.support.waiting import poll_for


def run_cli(pipe: Pipeline, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*pipe.cli(), *args],
        env=pipe.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def cli_ok(pipe: Pipeline, *args: str) -> bool:
    return run_cli(pipe, *args).returncode == 0


def cli_json(pipe: Pipeline, *args: str) -> Any:
    done = run_cli(pipe, *args, "--json")
    assert done.returncode == 0, f"booksnap {' '.join(args)} failed: {done.stderr or done.stdout}"
    return json.loads(done.stdout)


def test_one_snapshot_per_symbol_per_second(pipeline: Pipeline) -> None:
    writer = pipeline.procs["writer"]
    first = {s: stored_seconds(writer.log(), s)[0] for s in SYMBOLS}
    poll_for(
        lambda: all(len(set(stored_seconds(writer.log(), s))) >= 20 for s in SYMBOLS),
        timeout=60,
        what="20 stored seconds per symbol",
    )
    for symbol in SYMBOLS:
        seconds = sorted(set(stored_seconds(writer.log(), symbol)))
        span = range(first[symbol], seconds[-1] + 1)
        missing = sorted(set(span) - set(seconds))
        assert not missing, f"{symbol}: seconds never stored: {missing}"
        # one log line per stored second, never a second stored twice in one run
        assert len(stored_seconds(writer.log(), symbol)) == len(seconds)


def test_every_cli_command_answers_for_both_symbols(pipeline: Pipeline) -> None:
    for symbol in SYMBOLS:
        # the analytics need a window of stored seconds and enough trades
        poll_for(
            functools.partial(cli_ok, pipeline, "order-flow", symbol, "--window", "10"),
            timeout=60,
            what=f"order flow for {symbol}",
        )
        flow = cli_json(pipeline, "order-flow", symbol, "--window", "10")
        assert flow["symbol"] == symbol
        assert flow["flow_direction"] in {
            "STRONG_BUY",
            "MODERATE_BUY",
            "NEUTRAL",
            "MODERATE_SELL",
            "STRONG_SELL",
        }
        health = cli_json(pipeline, "health", symbol, "--window", "10")
        assert 0 <= health["overall_score"] <= 100
        assert isinstance(cli_json(pipeline, "anomalies", symbol, "--window", "10"), dict)
        assert isinstance(cli_json(pipeline, "vacuums", symbol, "--hours", "1"), dict)
        profile = cli_json(pipeline, "volume-profile", symbol, "--hours", "1")
        assert float(profile["value_area_low"]) <= float(profile["point_of_control"])
        assert float(profile["point_of_control"]) <= float(profile["value_area_high"])
        l1 = cli_json(pipeline, "l1", symbol)
        assert float(l1["best_bid"]) < float(l1["best_ask"])
        l2 = cli_json(pipeline, "l2", symbol, "--levels", "5")
        assert len(l2["bids"]) == 5
        assert len(l2["asks"]) == 5
        assert re.fullmatch(r"\d+\.\d{8}", l2["bids"][0]["price"])
        coverage = cli_json(pipeline, "coverage", symbol, "--hours", "1")
        assert coverage["stored_seconds"] > 0
        # snapshots print JSON lines with the exact 8-decimal strings
        now = int(time.time())
        done = run_cli(
            pipeline, "snapshots", symbol, "--start", str(now - 8), "--end", str(now - 3), "--json"
        )
        assert done.returncode == 0, done.stderr
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        assert lines
        for line in lines:
            price = line["bids"][0][0]
            assert re.fullmatch(r"\d+\.\d{8}", price)
    status = cli_json(pipeline, "status")
    assert status


def test_live_l1_stays_fast_while_persistence_runs(pipeline: Pipeline) -> None:
    client = QueryClient(pipeline.env["BOOKSNAP_QUERY_ENDPOINT"], timeout=5)
    try:
        timings = []
        for i in range(300):
            started = time.perf_counter()
            client.request("orderbook_l1", {"symbol": SYMBOLS[i % 2]})
            timings.append(time.perf_counter() - started)
    finally:
        client.close()
    p99 = statistics.quantiles(timings, n=100)[98]
    assert p99 < 0.2, f"L1 p99 {p99 * 1000:.1f} ms"


def test_writer_killed_and_restarted_loses_no_second(pipeline: Pipeline) -> None:
    """Every second the collectors recorded is stored across a writer crash and restart.

    A second the collector itself never recorded is not the writer's loss: a book invalid at that
    second's boundary (the best levels past the snapshot's depth while the snapshot depth adapts)
    gives no record, by design: ``Pipeline.never_recorded`` says which; at most two of them.
    """
    writer = pipeline.procs["writer"]
    first = {s: min(stored_seconds(writer.log(), s)) for s in SYMBOLS}
    writer.kill()
    time.sleep(3)  # the outage itself: the collectors keep publishing into the void
    restarted = pipeline.restart("writer")
    deadline_second = int(time.time()) + 3
    poll_for(
        lambda: all(
            max(stored_seconds(restarted.log(), s), default=0) >= deadline_second for s in SYMBOLS
        ),
        timeout=60,
        what="the restarted writer storing new seconds",
    )

    def settled(symbol: str) -> bool:
        """Coverage agrees: every second missing is one the collector never recorded."""
        result = client.request(
            "coverage", {"symbol": symbol, "start": first[symbol], "end": deadline_second}
        )
        missing[symbol] = [s for r in result["missing"] for s in range(r["start"], r["end"] + 1)]
        return set(missing[symbol]) <= pipeline.never_recorded(symbol)

    missing: dict[str, list[int]] = {}
    client = QueryClient(pipeline.env["BOOKSNAP_QUERY_ENDPOINT"], timeout=10)
    try:
        for symbol in SYMBOLS:
            poll_for(
                functools.partial(settled, symbol),
                timeout=30,
                what=f"{symbol} backfilled across the writer outage",
            )
            assert len(missing[symbol]) <= 2, f"{symbol} never recorded {missing[symbol]}"
    finally:
        client.close()


@pytest.mark.parametrize("name", ["query", "collector", "writer", "simulator"])
def test_sigterm_stops_each_process_cleanly(pipeline: Pipeline, name: str) -> None:
    # runs last (parametrised, module-scoped pipeline): stop in the Procfile's reverse order
    proc = pipeline.procs[name]
    proc.signal(signal.SIGTERM)
    started = time.monotonic()
    assert proc.popen is not None
    code = proc.popen.wait(10)
    assert code == 0, proc.log()[-2000:]
    assert time.monotonic() - started < 6
