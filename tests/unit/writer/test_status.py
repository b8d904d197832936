"""The status record and the aggregated rejection log."""

from __future__ import annotations

import logging

import msgpack
import pytest

from shared.errors import ConfigError
from writer.config import WriterConfig, parse_duration
from writer.pending import Record
from writer.status import RejectLog, WriterStatus


def test_status_record_counts_the_last_minute_and_hour():
    status = WriterStatus(started=1000.0, pid=42)
    for t in (100.0, 3000.0, 3700.0, 3705.0):
        record = Record("BTCUSDT", int(t), b"", b"", 1, 1, backfilled=t == 3000.0)
        status.stored([record], t)
    status.gap("BTCUSDT", 5)
    status.rejected["decode"] += 2
    record = msgpack.unpackb(status.encode(3710.0, pending=3, backfill_ranges=1, unrecoverable=0))
    assert record["symbols"]["BTCUSDT"] == {
        "last": 3705,
        "minute": 2,
        "hour": 3,
        "gaps": 1,
        "missing": 5,
        "backfilled": 1,
        "selfcheck_checks": 0,
        "selfcheck_mismatches": 0,
    }
    assert record["rejected"] == {"decode": 2}
    assert record["pending"] == 3
    assert record["pid"] == 42


def test_reject_log_names_the_first_cause_then_summarises(caplog):
    status = WriterStatus(started=0.0, pid=1)
    rejects = RejectLog(status, interval=10.0)
    with caplog.at_level(logging.ERROR):
        for i in range(1000):
            rejects.reject("decode", f"bad {i}", 1.0)
        rejects.reject("frames", "3 frames", 2.0)
        rejects.flush(5.0)  # window not over yet
        rejects.flush(11.0)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3
    assert "bad 0" in lines[0]
    assert "3 frames" in lines[1]
    assert "999 more" in lines[2]
    assert "decode=999" in lines[2]
    assert status.rejected == {"decode": 1000, "frames": 1}


@pytest.mark.parametrize(
    ("text", "seconds"), [("7d", 604_800), ("36h", 129_600), ("90m", 5400), ("30s", 30), ("45", 45)]
)
def test_durations(text, seconds):
    assert parse_duration("--retention", text) == seconds


@pytest.mark.parametrize("text", ["", "d", "7w", "-1d", "1.5h", "²d", "9" * 12])
def test_bad_durations_name_the_option(text):
    with pytest.raises(ConfigError, match="--retention"):
        parse_duration("--retention", text)


def test_config_rejects_equal_endpoints(tmp_path):
    with pytest.raises(ConfigError, match="--backfill-endpoint"):
        WriterConfig(
            tmp_path, ingest_endpoint="tcp://127.0.0.1:1", backfill_endpoint="tcp://127.0.0.1:1"
        )


def test_pending_capacity_defaults_to_twenty_minutes_of_the_symbols(tmp_path):
    assert WriterConfig(tmp_path, symbols=("A1", "B1", "C1")).capacity == 3 * 1200
