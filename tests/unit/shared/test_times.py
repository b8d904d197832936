from __future__ import annotations

import pytest

from shared.times import MAX_SECOND, format_time, parse_duration, parse_time

SECOND = 1_795_478_400  # 2026-11-24T00:00:00Z


@pytest.mark.parametrize(
    "text",
    [
        SECOND,
        float(SECOND) + 0.9,
        str(SECOND),
        f"{SECOND}.5",
        "2026-11-24T00:00:00Z",
        "2026-11-24T01:00:00+01:00",
        "2026-11-23T19:00:00-05:00",
        "2026-11-24T00:00:00",  # naive = UTC
        "2026-11-24 00:00",
        "2026-11-24",
        "  2026-11-24T00:00:00.750Z ",
    ],
)
def test_unix_seconds_and_iso_8601_mean_the_same_second(text):
    assert parse_time(text) == SECOND


@pytest.mark.parametrize(
    "bad", ["yesterday", "", "2026-13-01", True, None, [1], -5, float("nan"), "1e30", 10**11]
)
def test_bad_times_raise_value_error(bad):
    with pytest.raises(ValueError, match="time"):
        parse_time(bad)


def test_format_time_is_iso_utc():
    assert format_time(SECOND + 61) == "2026-11-24T00:01:01Z"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("7d", 604_800), ("36h", 129_600), ("90m", 5400), ("30s", 30), ("45", 45), (" 2H ", 7200)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "bad", ["", "d", "7w", "-1d", "1.5h", "²d", "٣h", "9" * 12, f"{MAX_SECOND // 86_400 + 1}d"]
)
def test_bad_durations_raise_value_error(bad):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)
