"""`make demo` as a newcomer runs it: honcho, Procfile.demo, every process, then Ctrl-C."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from booksnap.client import QueryClient
from tests.e2e.honcho import Honcho
from tests.support.pipeline import SYMBOLS
from tests.support.waiting import poll_for


def test_demo_procfile_stores_both_symbols_and_stops_cleanly(tmp_path: Path) -> None:
    honcho = Honcho(tmp_path)
    try:
        # the promise: within 60 s both symbols log a stored snapshot once a second
        poll_for(
            lambda: all(len(honcho.stored().get(s, ())) >= 5 for s in SYMBOLS),
            timeout=60,
            what="five stored seconds per symbol through honcho",
        )
        # The self-check's comparisons reach `booksnap status` (the collector's hello, the writer).
        with QueryClient(honcho.settings["BOOKSNAP_QUERY_ENDPOINT"], timeout=10) as client:
            poll_for(
                lambda: all(
                    (
                        (client.request("status")["symbols"][s].get("writer") or {}).get(
                            "selfcheck_checks", 0
                        )
                    )
                    > 0
                    for s in SYMBOLS
                ),
                timeout=60,
                interval=1.0,
                what="self-check comparisons in the status of both symbols",
            )
        # Ctrl-C: honcho passes SIGINT on, everything flushes and exits
        os.killpg(honcho.popen.pid, signal.SIGINT)
        honcho.popen.wait(20)
    finally:
        honcho.kill()
    output = honcho.output()
    assert "Traceback" not in output, output[-3000:]
    # The collectors start once the simulator answers (simulator/ready.py): no refused
    # connection, no failed REST snapshot while it was still loading its recordings.
    # (Until Ctrl-C: then the simulator may close the collectors' connections before they stop.)
    running = output.split("SIGINT received")[0]
    refused = [
        line
        for line in running.splitlines()
        if "collector.1" in line and ("reconnecting in" in line or "REST snapshot failed" in line)
    ]
    assert not refused, refused[:5]
    # the live self-check runs in the demo (first window as soon as a book is synced)
    assert "self-check: subscribe" in output, output[-3000:]
    assert "self-check mismatch" not in output
    for process in ("simulator", "collector", "writer", "query"):
        assert f"{process}.1 stopped (rc=0)" in output, output[-3000:]
    honcho.assert_logged_seconds_on_disk(SYMBOLS)
