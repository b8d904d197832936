"""Logging set-up: once per process, to stderr, with the process and symbol in every line."""

from __future__ import annotations

import logging
import sys

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_LOG_LEVEL = "INFO"


def configure_logging(process: str, tag: str = "", level: str = DEFAULT_LOG_LEVEL) -> None:
    """Send every record to stderr as ``time LEVEL process[tag] logger: message``.

    honcho adds its own prefix with the process name; the tag (usually the symbol) tells the
    processes of one Procfile line apart.
    """
    name = f"{process}[{tag}]" if tag else process
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(
            fmt=f"%(asctime)s.%(msecs)03d %(levelname)s {name} %(name)s: %(message)s",
            datefmt="%Y-%m-%dT%H:%M:%S",
        )
    )
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
