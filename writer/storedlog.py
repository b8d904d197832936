"""The required ``Stored snapshot for {symbol} at {timestamp}`` INFO line, at ingest rates.

A plain ``StreamHandler`` (the process's stderr) gets the lines of a whole batch in one write and
one flush, each line the handler's own formatting of the batch's moment around its message (see
``_write_all``). Where anything looks at the records themselves (a logger filter, another handler
such as a test's capture), each stored snapshot gets its own LogRecord (``Logger.makeRecord``),
so levels, filters and handlers see exactly one record per snapshot. ``cache_time_formatting``
makes the timestamp formatting of the root handlers reuse the text of the current second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from writer.pending import Record

STORED_MESSAGE = "Stored snapshot for %s at %d"
_SENTINEL = "\x00booksnap-stored-message\x00"


class StoredLog:
    """Logs the Stored line of each record of a durable batch."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def emit(self, records: Sequence[Record]) -> None:
        logger = self.logger
        if not records or not logger.isEnabledFor(logging.INFO):
            return
        handlers = [h for h in _handlers(logger) if h.level <= logging.INFO]
        plain = [h for h in handlers if type(h) is logging.StreamHandler and not h.filters]
        if logger.filters or len(plain) < len(handlers):
            # Someone looks at the records themselves (a filter, a capture handler): one each.
            make, name = logger.makeRecord, logger.name
            pairs = [
                (
                    r,
                    make(
                        name, logging.INFO, __file__, 0, STORED_MESSAGE, (r.symbol, r.second), None
                    ),
                )
                for r in records
            ]
            if logger.filters:
                pairs = [(r, entry) for r, entry in pairs if logger.filter(entry)]
            for handler in handlers:
                if handler not in plain:
                    for _, entry in pairs:
                        handler.handle(entry)
            records = [r for r, _ in pairs]
        for handler in plain:
            _write_all(handler, logger, records)


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


def _write_all(
    handler: logging.StreamHandler, logger: logging.Logger, records: Sequence[Record]
) -> None:
    """Every record's line in one write and one flush.

    The handler formats one probe record (``Handler.format``) whose message is a sentinel; when
    the sentinel appears exactly once, every line of the batch is that text with the sentinel
    replaced by its message (the batch is logged at one moment, so only the message differs).
    Otherwise each line is formatted on its own.
    """
    if not records:
        return
    probe = logger.makeRecord(logger.name, logging.INFO, __file__, 0, "%s", (_SENTINEL,), None)
    terminator = handler.terminator
    handler.acquire()
    try:
        try:
            parts = handler.format(probe).split(_SENTINEL)
            if len(parts) == 2:
                prefix, suffix = parts[0], parts[1] + terminator
                text = "".join(
                    [prefix + STORED_MESSAGE % (r.symbol, r.second) + suffix for r in records]
                )
            else:
                make, name = logger.makeRecord, logger.name
                text = "".join(
                    handler.format(
                        make(
                            name,
                            logging.INFO,
                            __file__,
                            0,
                            STORED_MESSAGE,
                            (r.symbol, r.second),
                            None,
                        )
                    )
                    + terminator
                    for r in records
                )
            handler.stream.write(text)
            handler.flush()
        except Exception:
            handler.handleError(probe)
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
