"""``booksnap coverage`` over days (asked day by day, merged) equals one request for the range."""

from __future__ import annotations

import json

from tests.integration.client.conftest import SYMBOL, Stored, booksnap


def test_coverage_over_days_equals_the_single_request(stored: Stored):
    start, end = stored.first - 2 * 86_400 + 17, stored.last + 30  # three pieces, gaps in each
    with stored.query.client() as client:
        whole = client.request("coverage", {"symbol": SYMBOL, "start": start, "end": end})

    done = booksnap(
        "coverage", SYMBOL, "--start", str(start), "--end", str(end), "--json",
        "--endpoint", stored.query.endpoint,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == whole
    assert whole["missing_range_count"] >= 2


def test_coverage_table_when_piped_is_plain_text(stored: Stored):
    done = booksnap(
        "coverage", SYMBOL, "--start", str(stored.first), "--end", str(stored.last),
        "--endpoint", stored.query.endpoint,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "\x1b[" not in done.stdout + done.stderr  # no colour codes, no progress bar
    assert f"stored {len(stored.seconds)} of {len(stored.seconds)} seconds" in done.stdout
