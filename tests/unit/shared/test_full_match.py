"""Every check of outside text is a full match: a trailing newline (which ``$`` lets through)
and other scripts' digits are refused wherever a symbol, key part, endpoint or number is read."""

from __future__ import annotations

import msgspec
import pytest

from shared.codec import decode_book, encode, symbol_of_topic
from shared.config import check_endpoint, check_http_url, check_ws_url
from shared.errors import ConfigError, DecodeError
from shared.fixedpoint import parse_fixed
from shared.model import SYMBOL_PATTERN
from shared.times import parse_time
from simulator.wire import parse_stream
from tests.unit.shared.test_codec import make_snapshot

TAILS = ["\n", "\r\n", "\n\n", " ", "\x00"]


@pytest.mark.parametrize("tail", TAILS)
def test_symbol_pattern_refuses_a_trailing_newline(tail: str) -> None:
    assert SYMBOL_PATTERN.match("BTCUSDT")
    assert SYMBOL_PATTERN.match("BTCUSDT" + tail) is None
    assert SYMBOL_PATTERN.search("BTCUSDT" + tail) is None  # how msgspec applies the pattern


@pytest.mark.parametrize("tail", TAILS)
def test_a_topic_with_a_trailing_newline_is_not_a_symbol(tail: str) -> None:
    assert symbol_of_topic(b"snap.BTCUSDT") == "BTCUSDT"
    with pytest.raises(DecodeError, match="invalid symbol"):
        symbol_of_topic(b"snap.BTCUSDT" + tail.encode())


def test_a_record_whose_symbol_ends_in_a_newline_is_refused() -> None:
    good = make_snapshot()
    assert decode_book(encode(good)).symbol == "BTCUSDT"
    payload = encode(msgspec.structs.replace(good, symbol="BTCUSDT\n"))
    with pytest.raises(DecodeError, match=r"\$\.sym"):
        decode_book(payload)


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (check_endpoint, "tcp://127.0.0.1:5555"),
        (check_endpoint, "ipc:///tmp/booksnap.sock"),
        (check_http_url, "http://127.0.0.1:9100"),
        (check_ws_url, "ws://127.0.0.1:9100"),
    ],
)
@pytest.mark.parametrize("tail", TAILS)
def test_endpoints_and_urls_refuse_a_trailing_newline(check, value: str, tail: str) -> None:
    assert check("--opt", value)
    with pytest.raises(ConfigError, match="--opt"):
        check("--opt", value + tail)


def test_endpoint_ports_are_ascii_digits() -> None:
    with pytest.raises(ConfigError):
        check_endpoint("--opt", "tcp://127.0.0.1:５５５５")  # fullwidth digits
    with pytest.raises(ConfigError):
        check_endpoint("--opt", "ipc:///tmp/a\u00a0b")  # a no-break space


@pytest.mark.parametrize("tail", TAILS)
def test_stream_names_refuse_a_trailing_newline(tail: str) -> None:
    assert parse_stream("btcusdt@depth@100ms") is not None
    assert parse_stream("btcusdt@depth@100ms" + tail) is None


def test_numbers_are_ascii_digits_only() -> None:
    assert parse_fixed("12.5") == 1_250_000_000
    for text in ("١٢", "١٢.٥", "12.٥", "１２", "²", "12.5\n"):
        with pytest.raises(ValueError, match="not an 8-decimal number"):
            parse_fixed(text)
    assert parse_time("1763971200") == 1763971200
    for text in ("١٧٦٣٩٧١٢٠٠", "1763971200.0000000000000001x"):
        with pytest.raises(ValueError, match="not a time"):
            parse_time(text)
