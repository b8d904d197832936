from __future__ import annotations

import pytest

from shared.config import check_endpoint, check_http_url, check_ws_url, parse_symbols
from shared.errors import ConfigError


def test_symbols_are_upper_cased_and_deduplicated() -> None:
    assert parse_symbols("--symbols", "btcusdt, ETHUSDT,btcusdt") == ("BTCUSDT", "ETHUSDT")


@pytest.mark.parametrize("text", ["", ",", "BTC/USDT", "X"])
def test_bad_symbols_name_the_option(text: str) -> None:
    with pytest.raises(ConfigError, match="--symbols"):
        parse_symbols("--symbols", text)


def test_endpoints_and_urls() -> None:
    assert check_endpoint("--ingest", "tcp://127.0.0.1:5555") == "tcp://127.0.0.1:5555"
    assert check_http_url("--rest-url", "http://127.0.0.1:9100/") == "http://127.0.0.1:9100"
    assert (
        check_ws_url("--ws-url", "wss://stream.binance.com:9443") == "wss://stream.binance.com:9443"
    )
    with pytest.raises(ConfigError, match="--ingest"):
        check_endpoint("--ingest", "localhost:5555")
    with pytest.raises(ConfigError, match="--ws-url"):
        check_ws_url("--ws-url", "https://x")
