"""`make demo` as a newcomer runs it: honcho, Procfile.demo, every process, then Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from shared.codec import decode_snapshot
from shared.storage import SNAPSHOTS_CF, db_path, iter_range, open_secondary
from tests.e2e.conftest import SYMBOLS, pipeline_env
from tests.support.processes import REPO
from tests.support.waiting import free_port, poll_for

STORED = re.compile(r"Stored snapshot for (\w+) at (\d+)")


def test_demo_procfile_stores_both_symbols_and_stops_cleanly(tmp_path: Path) -> None:
    env_file = tmp_path / "demo.env"
    settings = pipeline_env(tmp_path, free_port())
    env_file.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    log_path = tmp_path / "honcho.log"
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}
    with log_path.open("wb") as log:
        honcho = subprocess.Popen(
            [str(bin_dir / "honcho"), "-f", "Procfile.demo", "-e", str(env_file), "start"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def stored() -> dict[str, set[int]]:
            found: dict[str, set[int]] = {s: set() for s in SYMBOLS}
            for symbol, second in STORED.findall(log_path.read_text(errors="replace")):
                found.setdefault(symbol, set()).add(int(second))
            return found

        # the promise: within 60 s both symbols log a stored snapshot once a second
        poll_for(
            lambda: all(len(seconds) >= 5 for seconds in stored().values()),
            timeout=60,
            what="five stored seconds per symbol through honcho",
        )
        # Ctrl-C: honcho passes SIGINT on, everything flushes and exits
        os.killpg(honcho.pid, signal.SIGINT)
        honcho.wait(20)
    finally:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGKILL)
            honcho.wait(10)
    output = log_path.read_text(errors="replace")
    assert "Traceback" not in output, output[-3000:]
    for process in ("simulator", "collector", "writer", "query"):
        assert f"{process}.1 stopped (rc=0)" in output, output[-3000:]
    logged = stored()
    reader = open_secondary(db_path(settings["BOOKSNAP_DATA_DIR"]), tmp_path / "check")
    try:
        reader.try_catch_up_with_primary()
        family = reader.get_column_family(SNAPSHOTS_CF)
        for symbol in SYMBOLS:
            first, last = min(logged[symbol]), max(logged[symbol])
            on_disk = {s for s, value in iter_range(family, symbol, first, last)}
            # every second the writer logged as stored is on disk after the shutdown
            assert logged[symbol] <= on_disk
            for _, value in iter_range(family, symbol, last, last):
                assert decode_snapshot(value).symbol == symbol
    finally:
        reader.close()
