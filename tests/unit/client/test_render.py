from __future__ import annotations

from booksnap.render import (
    ROUNDING_NOTE,
    render_coverage,
    render_l2,
    render_mapping,
    render_snapshot_row,
    render_status,
    render_table,
    render_value,
    render_volume_profile,
)


def test_mapping_aligns_keys_and_formats_values():
    text = render_mapping(
        {"symbol": "BTCUSDT", "ratio": 1.23456789, "missing": None, "ok": True, "nested": {"a": 1}}
    )

    assert "symbol   BTCUSDT" in text
    assert "ratio    1.23456789" in text
    assert "missing  -" in text
    assert "ok       yes" in text
    assert "nested:\n  a  1" in text


def test_table_has_header_rule_and_rows():
    lines = render_table([{"a": 1, "bb": "x"}, {"a": 22}]).splitlines()

    assert lines[0].split() == ["a", "bb"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[3].split() == ["22", "-"]


def test_l2_puts_bids_and_asks_side_by_side():
    text = render_l2(
        {
            "symbol": "BTCUSDT",
            "bids": [["100.00000000", "1.00000000"]],
            "asks": [["101.00000000", "2.00000000"], ["102.00000000", "3.00000000"]],
        }
    )

    rows = text.splitlines()
    assert "symbol  BTCUSDT" in rows[0]
    assert "100.00000000" in text
    assert "102.00000000" in text


def profile(bins: int) -> dict:
    histogram = [
        {
            "price_low": f"{100 + i}.00000000",
            "price_high": f"{101 + i}.00000000",
            "volume": float(10 - abs(5 - i)),
        }
        for i in range(bins)
    ]
    return {
        "symbol": "ETHUSDT",
        "point_of_control": "105.50000000",
        "value_area_low": "103.00000000",
        "value_area_high": "108.00000000",
        "histogram": histogram,
    }


def test_volume_profile_histogram_marks_poc_and_value_area():
    text = render_volume_profile(profile(10))

    poc_lines = [line for line in text.splitlines() if "POC" in line and line.startswith("105")]
    assert len(poc_lines) == 1
    assert "█" in poc_lines[0]
    assert "░" in next(line for line in text.splitlines() if line.startswith("100.00000000 -"))
    # highest prices on top
    bars = [line for line in text.splitlines() if " - " in line and "00000000" in line]
    assert bars[0].startswith("109.00000000")


def test_volume_profile_merges_many_bins_into_at_most_100_rows():
    text = render_volume_profile(profile(500))

    assert len([line for line in text.splitlines() if " - " in line and "00000000" in line]) <= 100


def test_status_and_coverage_render():
    status = render_status(
        {
            "now": 1_795_478_400,
            "database": {"path": "/d/rocksdb", "open": True, "size_bytes": 2_097_152},
            "writer": {"pid": 5, "started": 1_795_478_000, "updated": 1_795_478_398, "symbols": {}},
            "symbols": {
                "BTCUSDT": {
                    "publishing": True,
                    "last_stored_second": 1_795_478_399,
                    "live": {"sessions_seen": 1},
                },
                "ETHUSDT": {"publishing": True, "live": {"sessions_seen": 3}},
            },
            "live_invalid_messages": 0,
        }
    )
    coverage = render_coverage(
        {
            "symbol": "BTCUSDT",
            "start": 0,
            "end": 99,
            "expected_seconds": 100,
            "stored_seconds": 90,
            "fraction": 0.9,
            "missing_seconds": 10,
            "missing_range_count": 1,
            "missing": [{"start": 10, "end": 19, "seconds": 10}],
            "missing_truncated": False,
        }
    )

    assert "2.0 MiB" in status
    # The writer's times in UTC, like every other time of the table.
    assert "started  2026-11-23T23:53:20Z" in status
    assert "updated  2026-11-23T23:59:58Z" in status
    assert "BTCUSDT" in status
    assert "yes" in status
    rows = {line.split()[0]: line.split() for line in status.splitlines() if "USDT" in line}
    # The first session seen is the collector's start: 1 session = 0 restarts, 3 = 2.
    # (restarts is the fifth column from the right)
    assert rows["BTCUSDT"][-5] == "0"
    assert rows["ETHUSDT"][-5] == "2"
    assert "90.00 %" in coverage
    assert "1970-01-01T00:00:10Z" in coverage


def test_prices_and_sizes_keep_every_decimal_and_never_use_an_exponent():
    assert render_value(61836.005, "mid") == "61836.005"
    assert render_value(61836.00512345, "microprice") == "61836.00512345"
    assert render_value(0.00001, "qty") == "0.00001"
    assert render_value(1234567.5, "notional") == "1234567.5"
    assert render_value(3.0, "size") == "3"


def test_bps_and_scores_round_to_the_stated_precision():
    assert render_value(1.616171, "spread_bps") == "1.6162"
    assert render_value(71.2345, "overall_score") == "71.2"
    assert ROUNDING_NOTE in render_mapping({"spread_bps": 1.5})
    assert ROUNDING_NOTE not in render_mapping({"mid": 1.5})


def test_millisecond_epochs_are_utc_times_but_ages_stay_durations():
    text = render_mapping({"ts_event": 1764000000123, "ts_recv": 1764000000005, "data_age_ms": 120})

    assert "2025-11-24T16:00:00.123Z" in text
    assert "2025-11-24T16:00:00.005Z" in text
    assert "data_age_ms  120" in text


def test_snapshot_rows_keep_exact_prices_and_show_the_event_time():
    row = render_snapshot_row(
        {
            "time": "2025-11-24T16:00:00Z",
            "bids": [["61836.00000000", "0.00009000"]],
            "asks": [["61836.01000000", "1.50000000"]],
            "update_id": 7,
            "ts_event": 1764000000990,
        }
    )

    text = render_table([row])

    assert "61836.00000000" in text
    assert "0.00009000" in text
    assert "2025-11-24T16:00:00.990Z" in text


def test_unix_seconds_are_shown_as_utc_times_and_durations_are_not():
    text = render_mapping(
        {
            "window_start": 1_795_478_340,
            "window_end": 1_795_478_400,
            "window_seconds": 60,
            "timestamp": 1_795_478_400,
            "update_ids_per_second": 12,
            "peak": {"peak_second": 1_795_478_399, "seconds_missing": 3},
        }
    )
    lines = dict(line.split(None, 1) for line in text.splitlines() if not line.endswith(":"))
    assert lines["window_start"] == "2026-11-23T23:59:00Z"
    assert lines["window_end"] == "2026-11-24T00:00:00Z"
    assert lines["timestamp"] == "2026-11-24T00:00:00Z"
    assert lines["peak_second"] == "2026-11-23T23:59:59Z"
    assert lines["window_seconds"] == "60"
    assert lines["update_ids_per_second"] == "12"
    assert lines["seconds_missing"] == "3"
