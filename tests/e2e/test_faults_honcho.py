"""SIGTERM to the whole honcho process group (what systemd or ``kill -TERM -PGID`` does).

Every process gets the signal at once, the collectors possibly after the writer: each must exit
cleanly, and every second the writer logged as stored must be on disk afterwards.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

from tests.e2e.honcho import Honcho
from tests.support.pipeline import SYMBOLS
from tests.support.waiting import poll_for

STOPPED = re.compile(r"\| (\w+)\.1 stopped \(rc=(-?\d+)\)")
# what each process logs last when it shut down in order (not merely died)
CLEAN_STOP = {
    "simulator": "Simulator stopped",
    "collector": "stopped 2 collector processes",
    "writer": "Sockets closed; writer stopped",
    "query": "closing the request and live sockets",
}


def test_sigterm_to_the_honcho_group_exits_cleanly_and_keeps_every_logged_second(
    tmp_path: Path,
) -> None:
    honcho = Honcho(tmp_path)
    try:
        poll_for(
            lambda: all(len(honcho.stored().get(s, ())) >= 5 for s in SYMBOLS),
            60,
            what="five stored seconds per symbol through honcho",
        )
        started = time.monotonic()
        os.killpg(honcho.popen.pid, signal.SIGTERM)  # the whole group: honcho and every process
        code = honcho.popen.wait(20)
        took = time.monotonic() - started
    finally:
        honcho.kill()
    output = honcho.output()
    assert "Traceback" not in output, output[-3000:]
    # honcho itself also takes the group's SIGTERM (exit 143 = 128 + SIGTERM); what matters is
    # that each process stopped cleanly.
    assert code in {0, 128 + signal.SIGTERM}, output[-3000:]
    assert took < 10, f"stopping took {took:.1f} s"
    # every Procfile line execs Python, so each process itself reports a clean exit
    assert dict(STOPPED.findall(output)) == dict.fromkeys(CLEAN_STOP, "0"), output[-3000:]
    for name, last_words in CLEAN_STOP.items():
        assert last_words in output, f"{name} did not stop cleanly:\n{output[-3000:]}"
    honcho.assert_logged_seconds_on_disk(SYMBOLS)
