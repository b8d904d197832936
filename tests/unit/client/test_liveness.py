"""``status --check`` verdicts from a status reply."""

from __future__ import annotations

from booksnap.liveness import check_symbols

NOW = 1_800_000_000


def status(**last: int | None) -> dict:
    return {"now": NOW, "symbols": {s: {"last_stored_second": v} for s, v in last.items()}}


def test_a_symbol_stored_within_max_age_is_ok_and_older_is_stale():
    checks = check_symbols(status(BTCUSDT=NOW - 10, ETHUSDT=NOW - 11), ("BTCUSDT", "ETHUSDT"), 10)

    assert [(c.symbol, c.ok, c.age) for c in checks] == [
        ("BTCUSDT", True, 10),
        ("ETHUSDT", False, 11),
    ]
    assert "ok" in checks[0].line(10)
    assert "STALE" in checks[1].line(10)


def test_a_configured_symbol_never_stored_is_stale():
    checks = check_symbols(
        status(BTCUSDT=NOW - 1, ETHUSDT=None), ("BTCUSDT", "ETHUSDT", "SOLUSDT"), 10
    )

    assert [c.ok for c in checks] == [True, False, False]
    assert checks[2].line(10) == "SOLUSDT STALE: nothing stored"


def test_a_malformed_reply_is_stale_not_a_crash():
    for reply in ({}, {"now": "x", "symbols": []}, {"now": NOW, "symbols": {"BTCUSDT": 5}}):
        assert [c.ok for c in check_symbols(reply, ("BTCUSDT",), 10)] == [False]
