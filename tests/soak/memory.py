"""Peak resident memory of each process of the pipeline, sampled with psutil."""

from __future__ import annotations

import contextlib
import re

import psutil

from tests.support.pipeline import Pipeline

SYMBOL_ARG = re.compile(r"^--symbol$")


class PeakMemory:
    """Samples every process (collector children by symbol) and keeps each role's peak RSS."""

    def __init__(self, pipe: Pipeline) -> None:
        self.pipe = pipe
        self.peaks: dict[str, int] = {}

    def sample(self) -> None:
        for name, proc in self.pipe.procs.items():
            if not proc.alive():
                continue
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(proc.pid)
                self._keep(name, process.memory_info().rss)
                if name == "collector":
                    for child in process.children():
                        self._keep(f"collector {_symbol_of(child)}", child.memory_info().rss)

    def _keep(self, role: str, rss: int) -> None:
        self.peaks[role] = max(self.peaks.get(role, 0), rss)


def _symbol_of(child: psutil.Process) -> str:
    args = child.cmdline()
    for i, arg in enumerate(args[:-1]):
        if SYMBOL_ARG.match(arg):
            return args[i + 1]
    return f"pid {child.pid}"
