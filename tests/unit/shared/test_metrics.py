"""shared/metrics.py (exporter settings, the loopback rule) and the pure label helpers."""

from __future__ import annotations

import pytest

from collector.metrics import resync_reason
from query.metrics import outcome_of
from shared.errors import ConfigError
from shared.metrics import OTHER, MetricsConfig, bounded, check_metrics_host, metrics_config
from shared.protocol import BUSY, INVALID_PARAMS, encode_error, encode_result


def test_off_unless_a_port_is_set() -> None:
    assert not metrics_config("writer", None, None, "127.0.0.1", False).enabled


@pytest.mark.parametrize(
    ("process", "port"), [("writer", 9300), ("query", 9301), ("collector", 9302)]
)
def test_the_base_port_gives_each_process_its_own(process: str, port: int) -> None:
    assert metrics_config(process, None, 9300, "127.0.0.1", False).port == port


def test_an_explicit_port_wins_over_the_base() -> None:
    assert metrics_config("query", 9999, 9300, "127.0.0.1", False).port == 9999


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"])
def test_loopback_hosts_need_no_flag(host: str) -> None:
    check_metrics_host(host, public=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "metrics.example.com", "eth0"])
def test_other_hosts_are_refused_without_the_flag(host: str) -> None:
    with pytest.raises(ConfigError, match="--metrics-public"):
        MetricsConfig(port=9300, host=host)
    assert MetricsConfig(port=9300, host=host, public=True).host == host


def test_the_host_is_not_checked_while_off() -> None:
    assert not MetricsConfig(port=None, host="0.0.0.0").enabled


def test_bounded_keeps_only_known_values() -> None:
    assert bounded("BTCUSDT", {"BTCUSDT"}) == "BTCUSDT"
    assert bounded("EVILUSDT", {"BTCUSDT"}) == OTHER


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("connection lost", "connection_lost"),
        ("sequence gap: expected U=5, got U=9 u=12", "gap"),
        ("first event U=9 u=12 does not straddle lastUpdateId+1=5", "straddle"),
        ("crossed book after u=7: best bid 2 >= best ask 1", "crossed"),
        ("buffered events do not continue snapshot 4: ...", "snapshot"),
        ("anything else", OTHER),
    ],
)
def test_resync_reasons_map_to_a_few_kinds(reason: str, kind: str) -> None:
    assert resync_reason(reason) == kind


def test_outcome_of_a_result_and_of_errors() -> None:
    assert outcome_of(encode_result(1, {"error": {"code": -32004}})) == "ok"
    assert outcome_of(encode_error("x", BUSY, "busy")) == "busy"
    assert outcome_of(encode_error(None, INVALID_PARAMS, "bad")) == "invalid_params"
    assert outcome_of(encode_error(7, -1, "?")) == "error"


def test_an_id_cannot_fake_an_outcome() -> None:
    hostile = '","error":{"code":-32004}'
    assert outcome_of(encode_result(hostile, 1)) == "ok"
    assert outcome_of(encode_error(hostile, INVALID_PARAMS, "bad")) == "invalid_params"
