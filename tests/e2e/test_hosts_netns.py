"""Collectors on two other hosts, one storage host: real TCP between Linux network namespaces.

    exchange segment 10.231.1.0/24          storage segment 10.231.2.0/24
    sim   10.231.1.1  (simulator)           store 10.231.2.1  (writer + query)
    ca    10.231.1.11 ─────────── ca ─────── 10.231.2.11   collector host A: A1, A2
    cb    10.231.1.12 ─────────── cb ─────── 10.231.2.12   collector host B: B1, B2

Host A's cable to the storage segment is pulled (``ip link set <veth> down``) for CUT seconds
while it keeps its exchange feed, then plugged back. Measured and printed: the seconds of A's
symbols missing when the cable comes back, how they came back (backfill fetches from the
collectors' buffers, or TCP retransmitting what the PUB socket had queued), how long that took,
and that B's symbols lost nothing meanwhile. Skips, with its reason, where namespaces cannot be
created (not root, no ``ip``).

Every process runs with CURVE keys (``booksnap keys init``, BOOKSNAP_KEYS_DIR), as
docs/reliability.md tells an operator deploying across hosts: the writer and query process bind
non-loopback addresses, which they refuse to do without keys.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

from shared.curve_keys import init_keys
from tests.support.logs import ranges, stored_in
from tests.support.netns import Host, Network
from tests.support.processes import Proc, stop_all
from tests.support.simulator import LISTENING
from tests.support.waiting import poll_for

HOSTS = {"ca": ("HOSTA1USDT", "HOSTA2USDT"), "cb": ("HOSTB1USDT", "HOSTB2USDT")}
SYMBOLS = tuple(s for symbols in HOSTS.values() for s in symbols)
SIM = "10.231.1.1"
STORE = "10.231.2.1"
INGEST, BACKFILL, LIVE, QUERY, FEED = (f"tcp://{STORE}:{port}" for port in range(5555, 5560))
CUT = 15.0  # seconds host A is cut off from the storage host
BACKFILLED = re.compile(r"Backfill of HOSTA\w+ \d+\.\.\d+ complete \((\d+) seconds\)")


def _start(procs: list[Proc], host: Host, module: str, args: list[str], log: Path) -> Proc:
    env = {"BOOKSNAP_LOG_LEVEL": "INFO", "BOOKSNAP_KEYS_DIR": str(log.parent / "keys")}
    proc = Proc(module, args, log, env=env, prefix=host.command([]))
    procs.append(proc.start())
    return proc


def _query(store: Host, method: str, params: dict[str, object], keys: Path) -> object:
    """One request to the query process, sent from inside the storage host."""
    script = (
        "import json, sys\n"
        "from booksnap.client import QueryClient\n"
        f"with QueryClient({QUERY!r}, timeout=20, keys_dir={str(keys)!r}) as c:\n"
        "    print(json.dumps(c.request(sys.argv[1], json.loads(sys.argv[2]))))\n"
    )
    argv = store.command([sys.executable, "-c", script, method, json.dumps(params)])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def _missing(writer: Proc, symbols: tuple[str, ...], first: int, last: int) -> dict[str, list]:
    stored = stored_in(writer.log())
    span = set(range(first, last + 1))
    return {s: ranges(span - stored.get(s, set())) for s in symbols}


def _count(seconds: dict[str, list]) -> int:
    return sum(b - a + 1 for spans in seconds.values() for a, b in spans)


def test_collector_host_cut_off_and_restored(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    init_keys(tmp_path / "keys")
    with Network("bsnet") as net:
        net.switch("ex")
        net.switch("st")
        sim, store = net.host("sim"), net.host("store")
        sim.plug("ex", SIM)
        store.plug("st", STORE)
        for i, role in enumerate(HOSTS):
            net.host(role).plug("ex", f"10.231.1.{11 + i}")
            net.host(role).plug("st", f"10.231.2.{11 + i}")
        procs: list[Proc] = []
        try:
            everything = ",".join(SYMBOLS)
            simulator = _start(
                procs,
                sim,
                "simulator",
                ["--host", SIM, "--port", "9100", "--symbols", everything],
                tmp_path / "simulator.log",
            )
            simulator.wait_log(LISTENING, timeout=30)
            endpoints = ["--ingest-endpoint", INGEST, "--backfill-endpoint", BACKFILL]
            writer = _start(
                procs,
                store,
                "writer",
                ["--data-dir", data, *endpoints, "--symbols", everything],
                tmp_path / "writer.log",
            )
            _start(
                procs,
                store,
                "query",
                [
                    *("--data-dir", data, "--endpoint", QUERY, "--live-endpoint", LIVE),
                    *("--feed-endpoint", FEED, "--symbols", everything),
                ],
                tmp_path / "query.log",
            )
            for role, symbols in HOSTS.items():
                _start(
                    procs,
                    net.host(role),
                    "collector",
                    [
                        *("--symbols", ",".join(symbols), "--rest-url", f"http://{SIM}:9100"),
                        *("--ws-url", f"ws://{SIM}:9100", *endpoints, "--live-endpoint", LIVE),
                    ],
                    tmp_path / f"collector-{role}.log",
                )
            for symbol in SYMBOLS:
                writer.wait_log(f"Stored snapshot for {symbol} at", timeout=60)
            start = int(time.time()) + 1
            poll_for(lambda: not _count(_missing(writer, SYMBOLS, start, start + 3)), 30, 0.2)

            # --- host A's storage cable pulled for CUT seconds ---
            cut_at = time.time()
            net.host("ca").link("st", up=False)
            first_cut, last_cut = int(cut_at) + 1, int(cut_at + CUT) - 1
            poll_for(  # B keeps storing meanwhile: that is the outage's clock
                lambda: not _count(_missing(writer, HOSTS["cb"], start, last_cut)),
                CUT + 30,
                0.2,
                "host B stored through the cut",
            )
            a_missing_at_restore = _missing(writer, HOSTS["ca"], first_cut, last_cut)
            restored_at = time.time()
            net.host("ca").link("st", up=True)

            end = int(restored_at) + 3
            poll_for(
                lambda: not _count(_missing(writer, SYMBOLS, start, end)),
                60,
                0.5,
                f"every second of {start}..{end} stored",
            )
            recovered_after = time.time() - restored_at
            coverage = {
                s: _query(
                    store, "coverage", {"symbol": s, "start": start, "end": end}, tmp_path / "keys"
                )
                for s in SYMBOLS
            }
            live = {
                s: _query(store, "orderbook_l1", {"symbol": s}, tmp_path / "keys") for s in SYMBOLS
            }
        finally:
            stop_all(procs)
        log = writer.log()
    fetches = [line for line in log.splitlines() if "Fetching HOSTA" in line]
    backfilled = sum(int(n) for n in BACKFILLED.findall(log))
    lost = [line for line in log.splitlines() if "are lost" in line]
    print(
        f"\n[netns] host A cut off {restored_at - cut_at:.1f} s ({first_cut}..{last_cut}); "
        f"its symbol-seconds not stored when the cable came back: "
        f"{_count(a_missing_at_restore)} {a_missing_at_restore}; all back "
        f"{recovered_after:.1f} s after restore; writer backfill fetches for host A: "
        f"{len(fetches)}, bringing {backfilled} symbol-seconds; "
        f"seconds lost: {len(lost)} lines {lost[:3]}; "
        f"host B missing during the cut: 0 of {len(HOSTS['cb']) * (last_cut - start + 1)}"
    )
    for symbol, result in coverage.items():
        assert isinstance(result, dict)
        assert result["missing"] == [], (symbol, result)
    assert all(isinstance(v, dict) and v.get("symbol") == s for s, v in live.items()), live
    assert not lost, lost
