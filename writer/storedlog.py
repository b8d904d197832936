"""The required ``Stored snapshot for {symbol} at {timestamp}`` INFO line, at ingest rates.

Each stored snapshot still gets its own LogRecord, passed through the logger's filters and every
handler (so tests' capture handlers, levels and filters see exactly one record per snapshot).
What is cheaper than one ``log.info`` call per record: no caller lookup, one level check per
batch, and a plain ``StreamHandler`` (the process's stderr) gets the formatted lines of a whole
batch in one write and one flush instead of one each. ``cache_time_formatting`` makes the
timestamp formatting of the root handlers reuse the text of the current second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from logging import Formatter, LogRecord, PercentStyle

from writer.pending import Record

STORED_MESSAGE = "Stored snapshot for %s at %d"
_SENTINEL = "\x00booksnap-stored-message\x00"
_new_record = object.__new__


class StoredLog:
    """Logs the Stored line of each record of a durable batch."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def emit(self, records: Sequence[Record]) -> None:
        logger = self.logger
        if not records or not logger.isEnabledFor(logging.INFO):
            return
        # One real LogRecord per batch; the others are copies of its attributes with their own
        # args (the batch is logged at one moment, so created/msecs/thread are the same anyway).
        template = logger.makeRecord(
            logger.name, logging.INFO, __file__, 0, STORED_MESSAGE, (), None
        ).__dict__
        new = _new_record
        entries: list[LogRecord] = []
        append = entries.append
        for r in records:
            entry = new(LogRecord)
            entry.__dict__ = {**template, "args": (r.symbol, r.second)}
            append(entry)
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
    """Format every entry, then one write and one flush for all of them."""
    terminator = handler.terminator
    handler.acquire()
    try:
        try:
            frame = _frame(handler, entries[0])
            if frame is None:
                text = "".join([handler.format(entry) + terminator for entry in entries])
            else:
                prefix, suffix = frame[0], frame[1] + terminator
                text = "".join([prefix + entry.getMessage() + suffix for entry in entries])
            handler.stream.write(text)
            handler.flush()
        except Exception:
            handler.handleError(entries[0])
    finally:
        handler.release()


def _frame(handler: logging.Handler, entry: LogRecord) -> tuple[str, str] | None:
    """The text around the message of a formatted line, when only the message varies.

    True for the plain ``Formatter`` with a ``%``-style format naming ``message`` once (and not
    ``msg``/``args``): every entry of a batch has the same attributes except its args. Formatting
    a copy whose message is a sentinel gives the prefix and suffix; each line is then
    ``prefix + message + suffix``, as ``handler.format`` would give it.
    """
    formatter = handler.formatter
    if (
        formatter is None
        or type(formatter) is not Formatter
        or type(formatter._style) is not PercentStyle
    ):
        return None
    fmt = formatter._fmt or ""
    if fmt.count("%(message)") != 1 or "%(msg)" in fmt or "%(args)" in fmt:
        return None
    probe = _new_record(LogRecord)
    probe.__dict__ = {**entry.__dict__, "msg": _SENTINEL, "args": None}
    parts = formatter.format(probe).split(_SENTINEL)
    return (parts[0], parts[1]) if len(parts) == 2 else None


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
