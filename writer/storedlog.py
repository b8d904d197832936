"""The required ``Stored snapshot for {symbol} at {timestamp}`` INFO line, at ingest rates.

Each stored snapshot gets its own LogRecord (``Logger.makeRecord``), passed through the logger's
filters and every handler, so tests' capture handlers, levels and filters see exactly one record
per snapshot. What is cheaper than one ``log.info`` call per record: no caller lookup, one level
check per batch, and a plain ``StreamHandler`` (the process's stderr) gets the formatted lines of
a whole batch in one write and one flush instead of one each. ``cache_time_formatting`` makes the
timestamp formatting of the root handlers reuse the text of the current second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from writer.pending import Record

STORED_MESSAGE = "Stored snapshot for %s at %d"


class StoredLog:
    """Logs the Stored line of each record of a durable batch."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def emit(self, records: Sequence[Record]) -> None:
        logger = self.logger
        if not records or not logger.isEnabledFor(logging.INFO):
            return
        make = logger.makeRecord
        name, info = logger.name, logging.INFO
        entries = [
            make(name, info, __file__, 0, STORED_MESSAGE, (r.symbol, r.second), None)
            for r in records
        ]
        if logger.filters:
            entries = [entry for entry in entries if logger.filter(entry)]
        for handler in _handlers(logger):
            if handler.level > logging.INFO:
                continue
            if type(handler) is logging.StreamHandler and not handler.filters:
                _write_all(handler, entries)
            else:
                for entry in entries:
                    handler.handle(entry)


def _handlers(logger: logging.Logger) -> list[logging.Handler]:
    """The handlers a record of ``logger`` reaches (what ``Logger.callHandlers`` walks)."""
    found: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        found.extend(current.handlers)
        if not current.propagate:
            break
        current = current.parent
    if not found and logging.lastResort is not None:
        found.append(logging.lastResort)
    return found


def _write_all(handler: logging.StreamHandler, entries: list[logging.LogRecord]) -> None:
    """Format every entry (``Handler.format``), then one write and one flush for all of them."""
    if not entries:
        return
    terminator = handler.terminator
    handler.acquire()
    try:
        try:
            handler.stream.write("".join([handler.format(entry) + terminator for entry in entries]))
            handler.flush()
        except Exception:
            handler.handleError(entries[0])
    finally:
        handler.release()


class _SecondCache:
    """``formatTime`` that formats each wall-clock second once (the text only changes then)."""

    def __init__(self, formatter: logging.Formatter) -> None:
        self.format_time = formatter.formatTime
        self.second = -1
        self.text = ""

    def __call__(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        if second != self.second:
            self.text = self.format_time(record, datefmt)
            self.second = second
        return self.text


def cache_time_formatting(logger: logging.Logger | None = None) -> None:
    """Make the formatters of ``logger``'s handlers (root by default) cache the time text.

    Only formatters whose date format has whole-second resolution (an explicit ``datefmt``; the
    milliseconds come from ``%(msecs)``) are changed, and their output stays identical. Also
    stops LogRecords from looking up thread and process names, which the writer's log format
    (``shared/log.py``) does not show.
    """
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    for handler in (logger or logging.getLogger()).handlers:
        formatter = handler.formatter
        if formatter is not None and formatter.datefmt and formatter.converter is time.localtime:
            formatter.formatTime = _SecondCache(formatter)  # type: ignore[method-assign]
