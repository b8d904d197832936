"""``booksnap status --check`` exit codes through a real query process over a real writer."""

from __future__ import annotations

import time

from tests.integration.client.conftest import SYMBOL, Stored, booksnap
from tests.integration.writer.harness import series
from tests.support.waiting import free_endpoint


def check(stored: Stored, *args: str, endpoint: str | None = None):
    return booksnap(
        "status", "--check", "--endpoint", endpoint or stored.query.endpoint, *args, timeout=60
    )


def test_check_exit_codes_follow_the_age_of_the_newest_stored_second(stored: Stored):
    now = int(time.time())
    stored.publish(series(SYMBOL, now - 3, 3, session=9, seq0=1))

    fresh = check(stored, "--symbols", SYMBOL, "--max-age", "30")
    time.sleep(max(0.0, now + 2 - time.time()))
    stale = check(stored, "--symbols", SYMBOL, "--max-age", "1")
    missing = check(stored, "--symbols", f"{SYMBOL},ETHUSDT", "--max-age", "30")

    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert fresh.stdout.startswith(f"{SYMBOL} ok: last stored second")
    assert stale.returncode == 1, stale.stdout
    assert stale.stdout.startswith(f"{SYMBOL} STALE")
    assert missing.returncode == 1
    assert missing.stdout.splitlines() == [
        missing.stdout.splitlines()[0],
        "ETHUSDT STALE: nothing stored",
    ]
    assert "ok" in missing.stdout.splitlines()[0]


def test_check_reads_the_configured_symbols_from_the_environment(stored: Stored, monkeypatch):
    monkeypatch.setenv("BOOKSNAP_SYMBOLS", "SOLUSDT")

    result = check(stored, "--max-age", "100000")

    assert result.returncode == 1
    assert result.stdout.strip() == "SOLUSDT STALE: nothing stored"


def test_check_without_a_query_process_exits_3(stored: Stored):
    result = check(stored, "--timeout", "0.5", endpoint=free_endpoint())

    assert result.returncode == 3
    assert "not answering" in result.stderr
