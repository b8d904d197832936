"""The MCP server's pure parts: tools from shared/methods.py, summaries, errors, its options."""

from __future__ import annotations

import jsonschema
import pytest
from click.testing import CliRunner

from booksnap import mcp_results
from booksnap.cli import cli
from booksnap.mcp_server import is_loopback, parse_http
from shared.errors import ConfigError
from shared.methods import METHODS, Method, Param
from shared.protocol import BUSY, INSUFFICIENT_DATA, INVALID_PARAMS, INVALID_REQUEST, NOT_FOUND


def test_one_tool_per_method_with_its_schema_and_summary():
    tools = mcp_results.tools()

    assert [t.name for t in tools] == [m.name for m in METHODS]
    for tool, method in zip(tools, METHODS, strict=True):
        assert tool.input_schema == method.json_schema()
        assert tool.description == method.summary
        jsonschema.Draft202012Validator.check_schema(tool.input_schema)


def test_a_method_added_later_becomes_a_tool_with_a_generic_summary():
    extra = Method(
        "get_market_quality",
        "db",
        "A made-up method.",
        (Param("symbol", "symbol", "Symbol.", required=True),),
    )

    tool = mcp_results.tool(extra)
    result = mcp_results.success(
        "get_market_quality", {"symbol": "BTCUSDT", "score": 71.25, "grade": "B", "parts": [1, 2]}
    )

    assert tool.input_schema["required"] == ["symbol"]
    assert result.content[0].text == "get_market_quality BTCUSDT: score=71.25, grade=B"
    assert result.structured_content == {
        "symbol": "BTCUSDT",
        "score": 71.25,
        "grade": "B",
        "parts": [1, 2],
    }


def test_summary_picks_the_key_numbers_and_paths():
    l2 = {
        "symbol": "ETHUSDT",
        "levels_requested": 2,
        "bids": [{"price": "10.00000000", "cumulative_qty": "1.00000000"}, {"cumulative_qty": "3"}],
        "asks": [],
    }

    text = mcp_results.summary("orderbook_l2", l2)

    assert text == (
        "orderbook_l2 ETHUSDT: levels_requested=2, bids.0.price=10.00000000, "
        "bids.-1.cumulative_qty=3"
    )


def test_insufficient_data_reaches_the_model_in_words():
    result = mcp_results.query_error(
        "get_order_flow",
        INSUFFICIENT_DATA,
        "not enough seconds: the window holds 12, at least 60 needed",
        {"what": "s", "have": 12, "needed": 60},
    )

    assert result.is_error
    assert "insufficient data: have 12 s, need 60" in result.content[0].text
    assert result.structured_content["error"]["code"] == INSUFFICIENT_DATA
    assert result.structured_content["error"]["data"] == {"what": "s", "have": 12, "needed": 60}


def test_invalid_params_name_the_parameter():
    result = mcp_results.query_error(
        "orderbook_l2", INVALID_PARAMS, "must be 1..100", {"param": "levels"}
    )

    assert result.content[0].text.startswith(
        "orderbook_l2 failed: invalid params: parameter `levels`: must be 1..100"
    )
    assert result.structured_content["error"]["param"] == "levels"
    assert result.structured_content["error"]["name"] == "invalid params"


def test_other_errors_keep_code_and_message():
    result = mcp_results.query_error("orderbook_l1", NOT_FOUND, "no live book of XYZUSDT", None)

    assert result.content[0].text == "orderbook_l1 failed: not found: no live book of XYZUSDT"
    assert result.structured_content == {
        "error": {"code": NOT_FOUND, "name": "not found", "message": "no live book of XYZUSDT"}
    }


def test_unknown_tool_is_a_tool_error_with_a_clipped_name():
    result = mcp_results.unknown_tool("x" * 10_000)

    assert result.is_error
    assert len(result.content[0].text) < 1000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8765", ("127.0.0.1", 8765)),
        ("[::1]:80", ("::1", 80)),
        ("localhost:1", ("localhost", 1)),
        ("8765", ("127.0.0.1", 8765)),
    ],
)
def test_parse_http(text, expected):
    assert parse_http(text) == expected


@pytest.mark.parametrize("text", ["", "host", "1.2.3.4:", "1.2.3.4:123456", "a:b:-1"])
def test_parse_http_rejects(text):
    with pytest.raises(ConfigError):
        parse_http(text)


def test_loopback():
    assert is_loopback("127.0.0.1")
    assert is_loopback("127.1.2.3")
    assert is_loopback("::1")
    assert is_loopback("LOCALHOST")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.10")
    assert not is_loopback("example.com")


@pytest.mark.parametrize("address", ["0.0.0.0:8765", "[::]:8765", "10.0.0.1:8765", "host:8765"])
def test_a_non_loopback_http_address_is_refused(address):
    result = CliRunner().invoke(cli, ["mcp", "--http", address])

    assert result.exit_code == 2
    assert "non-loopback" in result.output
    assert "no authentication" in result.output


def test_mcp_help_has_examples():
    result = CliRunner().invoke(cli, ["mcp", "--help"])

    assert result.exit_code == 0
    assert "booksnap mcp --http 127.0.0.1:8765" in result.output


def test_arguments_too_large_for_the_query_process_are_refused_before_sending():
    result = mcp_results.refusal("orderbook_l1", {"symbol": "x" * 70_000}, in_flight_full=False)

    assert result is not None
    assert result.is_error
    assert result.structured_content["error"]["code"] == INVALID_REQUEST
    assert "70013 bytes" in result.content[0].text


def test_a_call_beyond_the_in_flight_bound_is_refused_as_busy():
    result = mcp_results.refusal("orderbook_l1", {"symbol": "BTCUSDT"}, in_flight_full=True)

    assert result is not None
    assert result.structured_content["error"]["code"] == BUSY


def test_an_ordinary_call_is_not_refused():
    assert mcp_results.refusal("orderbook_l1", {"symbol": "BTCUSDT"}, in_flight_full=False) is None
