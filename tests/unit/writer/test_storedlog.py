"""The required Stored line: one per stored record, through any handler, formatted as configured."""

from __future__ import annotations

import io
import logging

from writer.pending import Record
from writer.storedlog import StoredLog


def records(*seconds: int) -> list[Record]:
    return [Record("BTCUSDT", s, b"", b"", 1, 1) for s in seconds]


def logger_with(handler: logging.Handler, name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_a_plain_stream_handler_gets_every_line_formatted_as_its_formatter_says():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s writer %(name)s: %(message)s"))
    StoredLog(logger_with(handler, "t.plain")).emit(records(5, 6, 7))
    assert stream.getvalue().splitlines() == [
        f"INFO writer t.plain: Stored snapshot for BTCUSDT at {s}" for s in (5, 6, 7)
    ]


def test_a_format_showing_the_message_twice_still_gets_exact_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s | %(message)s"))
    StoredLog(logger_with(handler, "t.twice")).emit(records(1))
    assert (
        stream.getvalue() == "Stored snapshot for BTCUSDT at 1 | Stored snapshot for BTCUSDT at 1\n"
    )


def test_filters_and_other_handlers_see_one_record_per_snapshot():
    seen: list[logging.LogRecord] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    stream = io.StringIO()
    logger = logger_with(Capture(), "t.capture")
    logger.addHandler(logging.StreamHandler(stream))
    logger.addFilter(lambda record: record.args[1] != 6)
    StoredLog(logger).emit(records(5, 6, 7))
    assert [r.getMessage() for r in seen] == [
        "Stored snapshot for BTCUSDT at 5",
        "Stored snapshot for BTCUSDT at 7",
    ]
    assert stream.getvalue().splitlines() == [r.getMessage() for r in seen]


def test_nothing_below_info():
    stream = io.StringIO()
    logger = logger_with(logging.StreamHandler(stream), "t.quiet")
    logger.setLevel(logging.WARNING)
    StoredLog(logger).emit(records(1, 2))
    assert stream.getvalue() == ""
