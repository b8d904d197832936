"""Run booksnap processes as real OS processes, with their logs captured to a file."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tests.support.waiting import poll_for

REPO = Path(__file__).resolve().parents[2]


class Proc:
    """One child process (``python -m <module> ...``) whose stderr+stdout go to ``log_path``."""

    def __init__(
        self,
        module: str,
        args: Sequence[str],
        log_path: Path,
        env: dict[str, str] | None = None,
        prefix: Sequence[str] = (),
    ) -> None:
        self.module = module
        self.prefix = list(prefix)  # e.g. ``ip netns exec NS``: a command that execs the rest
        self.args = list(args)
        self.log_path = log_path
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            [*self.prefix, sys.executable, "-m", self.module, *self.args],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_log(self, text: str, timeout: float = 20.0, count: int = 1) -> None:
        poll_for(
            lambda: self.log().count(text) >= count,
            timeout,
            what=f"{count}x {text!r} in {self.log_path.name}",
        )

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum: int) -> None:
        assert self.popen is not None
        self.popen.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL the process (and its process group, so its children go too)."""
        if self.alive():
            assert self.popen is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, wait up to ``timeout`` s, then SIGKILL; returns the exit code."""
        assert self.popen is not None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return int(self.popen.returncode)


def stop_all(procs: Sequence[Proc], timeout: float = 10.0) -> None:
    """Stop in reverse order of start, never raising."""
    for proc in reversed(procs):
        if proc.popen is None:
            continue
        try:
            proc.stop(timeout)
        except Exception:
            proc.kill()
    time.sleep(0)
