"""How the supervisor starts a symbol's collector: forked from itself, or as a new program.

Forking is the default. The supervisor has already imported everything a collector needs
(orjson, pyzmq, websocket-client, every collector module) and froze those objects out of the
garbage collector's reach (``gc.freeze()``), so a child shares all of it with the supervisor
and every other child, copy-on-write; only what the child changes becomes its own. A fresh
interpreter per symbol (``ExecLauncher``) costs ~17.5 MB of private memory before its first
frame; a forked child ~3 MB (docs/benchmarks.md, scale section).

Both launchers hand back an object with the part of ``subprocess.Popen``'s interface the
supervisor uses: ``pid``, ``returncode``, ``poll``, ``wait``, ``terminate``, ``kill``.
"""

from __future__ import annotations

import contextlib
import ctypes
import encodings.idna  # noqa: F401 - see below
import gc
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Protocol

log = logging.getLogger(__name__)

# ``encodings.idna`` (with ``stringprep`` and ``unicodedata``) is imported lazily by the first
# socket connect to a host name given as text: imported in each child, it cost ~0.6 MB of
# private memory per child (7.6 -> 6.9 MB, a child forked after importing it, same load).

PR_SET_PDEATHSIG = 1  # linux/prctl.h
WAIT_STEP = 0.02  # s between looks at a forked child that is being waited for


class ChildProcess(Protocol):
    """What the supervisor needs of a running child (a subset of ``subprocess.Popen``)."""

    @property
    def pid(self) -> int: ...

    @property
    def returncode(self) -> int | None: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


class Launcher(Protocol):
    def __call__(self, symbol: str) -> ChildProcess: ...


class ForkedChild:
    """A child made by ``os.fork()``; exit codes follow ``Popen`` (−N: killed by signal N)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: it is gone, the cause unknown
                self.returncode = 255
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0.0)
            time.sleep(WAIT_STEP)
        return code

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, signum: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)


class ForkLauncher:
    """Forks a child that runs ``target(symbol)`` and exits with the code it returns."""

    def __init__(self, target: Callable[[str], int]) -> None:
        self._target = target
        self._frozen = False

    def __call__(self, symbol: str) -> ChildProcess:
        if not self._frozen:
            # Everything imported so far moves to the permanent generation: a child's
            # collections never walk (and so never copy) the pages the supervisor shares.
            gc.collect()
            gc.freeze()
            self._frozen = True
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # or the child would write the parent's buffered text again
        pid = os.fork()
        if pid:
            return ForkedChild(pid)
        code = 1
        try:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, signal.SIG_DFL)  # until the child installs its own
            die_with_parent()
            code = self._target(symbol)
        except BaseException:  # nothing may return into the supervisor's loop
            log.exception("the %s collector failed before its loop", symbol)
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os._exit(code)


class ExecLauncher:
    """Runs ``command --symbol X args`` as a new program (a fresh interpreter per symbol)."""

    def __init__(self, command: Sequence[str], args: Sequence[str]) -> None:
        self._command = list(command)
        self._args = list(args)
        self.env: dict[str, str] | None = None  # the children's environment (None: inherit)

    def __call__(self, symbol: str) -> ChildProcess:
        argv = [*self._command, "--symbol", symbol, *self._args]
        return subprocess.Popen(argv, env=self.env, preexec_fn=die_with_parent)  # noqa: PLW1509


def die_with_parent() -> None:
    """In the child: ask Linux for SIGTERM when the supervisor dies (even by SIGKILL), so no
    orphaned collector keeps publishing beside a new supervisor's children."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: orphans are possible, nothing else changes
