"""The command line: help, and invalid options rejected at once with the option named."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from collector.__main__ import main
from collector.config import CollectorConfig, SupervisorConfig, depth_weight
from shared.errors import ConfigError


def test_help_shows_an_example():
    result = CliRunner().invoke(main, ["--help"])

    assert result.exit_code == 0
    assert "BOOKSNAP_SYMBOLS=BTCUSDT,ETHUSDT" in result.output


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--symbol", "BTC-USDT"], "--symbol"),
        (["--symbols", ",,"], "--symbols"),
        (["--symbol", "BTCUSDT", "--levels", "0"], "--levels"),
        (["--symbol", "BTCUSDT", "--ws-url", "http://x"], "--ws-url"),
        (["--symbol", "BTCUSDT", "--ingest-endpoint", "nowhere"], "--ingest-endpoint"),
        (["--trade-grace", "5"], "--trade-grace"),
    ],
)
def test_invalid_options_exit_at_once_naming_the_option(args, option):
    result = CliRunner().invoke(main, args)

    assert result.exit_code == 2
    assert option in result.output


def test_config_defaults_and_urls():
    config = CollectorConfig(symbol="btcusdt", rest_url="http://127.0.0.1:9100/")

    assert config.symbol == "BTCUSDT"
    assert config.depth_url == "http://127.0.0.1:9100/api/v3/depth?symbol=BTCUSDT"
    assert config.stream_url.endswith("/stream?streams=btcusdt@depth@100ms/btcusdt@aggTrade")
    assert depth_weight(1000) == 50
    assert depth_weight(5000) == 250
    assert SupervisorConfig(symbols=("ethusdt",)).symbols == ("ETHUSDT",)
    with pytest.raises(ConfigError, match="--restart-max"):
        SupervisorConfig(restart_min=5, restart_max=1)
