"""The demo as honcho runs it (Procfile.demo), on free ports and a temporary data directory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from shared.codec import decode_book
from shared.storage import SNAPSHOTS_CF, db_path, iter_range, open_secondary
from tests.support.logs import stored_in
from tests.support.pipeline import pipeline_env
from tests.support.processes import REPO
from tests.support.waiting import free_port


class Honcho:
    """``honcho -f Procfile.demo start`` in its own process group, its output in a file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.settings = pipeline_env(root, free_port())
        env_file = root / "demo.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in self.settings.items()))
        self.log_path = root / "honcho.log"
        bin_dir = Path(sys.executable).parent
        env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}
        with self.log_path.open("wb") as log:
            self.popen = subprocess.Popen(
                [str(bin_dir / "honcho"), "-f", "Procfile.demo", "-e", str(env_file), "start"],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stored(self) -> dict[str, set[int]]:
        """The seconds each symbol was logged as stored so far."""
        return stored_in(self.output())

    def kill(self) -> None:
        """SIGKILL the whole group if anything is still running (test teardown)."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def assert_logged_seconds_on_disk(self, symbols: tuple[str, ...]) -> None:
        """Every second the writer logged as stored is in the database, and decodes."""
        logged = self.stored()
        reader = open_secondary(db_path(self.settings["BOOKSNAP_DATA_DIR"]), self.root / "check")
        try:
            reader.try_catch_up_with_primary()
            family = reader.get_column_family(SNAPSHOTS_CF)
            for symbol in symbols:
                first, last = min(logged[symbol]), max(logged[symbol])
                on_disk = dict(iter_range(family, symbol, first, last))
                lost = logged[symbol] - set(on_disk)
                assert not lost, f"{symbol}: logged as stored but not on disk: {sorted(lost)}"
                assert decode_book(on_disk[last]).symbol == symbol
        finally:
            reader.close()
