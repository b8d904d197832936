"""What the live self-check costs: ``python -m benchmarks.selfcheck_cost``.

Replays the real recordings through the collector's own parsing, BookSync and SelfCheck, in
one process, as the collector's loop calls them (the ticker frames among the depth frames, in
recorded order; the recordings' @trade frames are left out: the collector takes @aggTrade).
Reports the CPU time per bookTicker frame, the checks made, the mismatches (0 expected), and
the average cost at the default sampling (10 s of every 600 s) as a share of one core.

``--live SECONDS`` also measures it whole, WebSocket receive included: a simulator replays the
recordings at real speed and two BTCUSDT collector processes run side by side for SECONDS, one
sampling bookTicker all the time, one never; the difference of their CPU time is the cost.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
import time
from pathlib import Path

import psutil

from collector.config import CollectorConfig
from collector.selfcheck import SelfCheck
from collector.sync import BookSync
from collector.wire import BookTicker, DepthUpdate, parse_frame, parse_snapshot
from tests.support.processes import Proc, stop_all
from tests.support.simulator import SimulatorProcess
from tests.support.waiting import free_endpoint

RECORDINGS = Path(__file__).resolve().parents[1] / "simulator" / "recordings" / "hftbacktest"


def frames(symbol: str) -> list[tuple[str, bytes]]:
    """Every (kind, frame) in recorded order: "rest" (the snapshot), "depth" or "ticker"."""
    out: list[tuple[str, bytes]] = []
    for path in sorted((RECORDINGS / "spot").glob(f"{symbol.lower()}_*.gz")):
        with gzip.open(path, "rb") as handle:
            for line in handle:
                raw = line.rstrip(b"\n").partition(b" ")[2]
                if raw.startswith(b'{"lastUpdateId"'):
                    out.append(("rest", raw))
                elif b"@trade" not in raw[:40]:  # @trade: not what the collector takes
                    out.append(("ticker" if b"@bookTicker" in raw[:40] else "depth", raw))
    return out


def run(symbol: str, with_tickers: bool) -> tuple[float, int, int, int, float]:
    """CPU seconds for the whole recording; tickers, checks, mismatches; recording seconds."""
    items = frames(symbol)
    sync, check = BookSync(), SelfCheck(600, 10)
    tickers = 0
    first_e = last_e = 0
    started = time.process_time()
    for kind, raw in items:
        if kind == "ticker" and not with_tickers:
            continue
        if kind == "rest":
            if sync.wants_snapshot():
                sync.on_snapshot(parse_snapshot(raw))
            continue
        message = parse_frame(raw)
        if isinstance(message, DepthUpdate):
            first_e = first_e or message.E
            last_e = message.E
            if sync.on_event(message) and check.waiting:
                check.on_book(sync)
        elif isinstance(message, BookTicker):
            tickers += 1
            check.on_ticker(message, sync)
    cpu = time.process_time() - started
    return cpu, tickers, check.checks, check.mismatches, (last_e - first_e) / 1000


def live(seconds: float) -> None:
    """Two collectors of BTCUSDT at real speed: self-check always on vs off; CPU difference."""
    with tempfile.TemporaryDirectory(prefix="booksnap-selfcheck-") as tmp:
        sim = SimulatorProcess(Path(tmp), ("BTCUSDT",), "replay", 1.0).start()
        procs: list[Proc] = []
        try:
            for name, every in (("on", str(seconds * 2)), ("off", "0")):
                env = {
                    "BOOKSNAP_REST_URL": sim.rest_url,
                    "BOOKSNAP_WS_URL": sim.ws_url,
                    "BOOKSNAP_INGEST_ENDPOINT": free_endpoint(),
                    "BOOKSNAP_LIVE_ENDPOINT": free_endpoint(),
                    "BOOKSNAP_BACKFILL_ENDPOINT": free_endpoint(),
                }
                args = ["--symbol", "BTCUSDT", "--selfcheck-every", every]
                args += ["--selfcheck-window", str(seconds * 2), "--summary-interval", "3600"]
                procs.append(Proc("collector", args, Path(tmp) / f"{name}.log", env=env).start())
            for proc in procs:
                proc.wait_log("synced BTCUSDT at snapshot", timeout=60)
            stats = [psutil.Process(p.pid) for p in procs]
            before = [sum(s.cpu_times()[:2]) for s in stats]
            time.sleep(seconds)
            after = [sum(s.cpu_times()[:2]) for s in stats]
        finally:
            stop_all([*procs, *([sim.proc] if sim.proc else [])])
    on, off = ((a - b) / seconds for a, b in zip(after, before, strict=True))
    print(
        f"live, {seconds:.0f} s of BTCUSDT at real speed: collector with the self-check on "
        f"{on:.2%} of a core, off {off:.2%}: the check costs {on - off:.2%} while sampling"
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--live":
        live(float(sys.argv[2]))
    defaults = CollectorConfig(symbol="BTCUSDT")
    duty = defaults.selfcheck_window / defaults.selfcheck_every
    for symbol in ("BTCUSDT", "ETHUSDT"):
        base = min(run(symbol, False)[0] for _ in range(3))
        cpu, tickers, checks, mismatches, seconds = min(
            (run(symbol, True) for _ in range(3)), key=lambda r: r[0]
        )
        per_ticker = (cpu - base) / tickers
        while_on = (cpu - base) / seconds
        print(
            f"{symbol}: {tickers:,} bookTicker frames over {seconds:.0f} s "
            f"({tickers / seconds:.0f}/s), {checks:,} checks, {mismatches} mismatches; "
            f"{per_ticker * 1e6:.1f} µs CPU per ticker frame; while sampling "
            f"{while_on:.2%} of a core, on average at {duty:.1%} duty {while_on * duty:.4%}"
        )


if __name__ == "__main__":
    main()
