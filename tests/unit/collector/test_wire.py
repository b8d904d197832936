"""Parsing of Binance frames and REST bodies, driven by one fixture file per message shape."""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from collector.wire import (
    AggTrade,
    DepthUpdate,
    Ignored,
    MalformedFrame,
    ServerShutdown,
    _checked_agg_trade,
    _checked_depth_update,
    parse_frame,
    parse_levels,
    parse_snapshot,
)
from shared.fixedpoint import MAX_INT64, SCALE, parse_fixed
from tests.unit.collector.fixtures import fixture, fixture_text, frame


def test_depth_update_parses_with_exact_scaled_levels():
    event = parse_frame(fixture_text("depth_update.json"))

    assert isinstance(event, DepthUpdate)
    assert (event.s, event.U, event.u, event.E) == (
        "BTCUSDT",
        50093239189,
        50093239202,
        1723161255208,
    )
    assert event.b[0] == (6173763000000, 0)
    assert event.a[0] == (6183764000000, 154698000)


def test_agg_trade_parses():
    trade = parse_frame(fixture_text("agg_trade.json"))

    assert trade == AggTrade(
        E=1723161255343,
        s="BTCUSDT",
        a=3012345678,
        p=6183763000000,
        q=2000000,
        f=3735683259,
        l=3735683260,
        T=1723161255342,
        m=True,
    )


def test_server_shutdown_and_subscription_reply():
    assert parse_frame(fixture_text("server_shutdown.json")) == ServerShutdown(E=1723161255400)
    assert isinstance(parse_frame(fixture_text("subscription_reply.json")), Ignored)


def test_raw_stream_frame_without_wrapper_parses():
    data = fixture("depth_update.json")["data"]

    assert isinstance(parse_frame(frame(data)), DepthUpdate)


def test_rest_depth_parses_best_first():
    snap = parse_snapshot(fixture_text("rest_depth.json").encode())

    assert snap.lastUpdateId == 50093239218
    assert len(snap.bids) == len(snap.asks) == 5
    assert snap.bids[0][0] > snap.bids[1][0]
    assert snap.asks[0][0] < snap.asks[1][0]


@pytest.mark.parametrize("index", range(len(fixture("malformed_frames.json"))))
def test_every_malformed_frame_raises_a_clear_error(index):
    text = fixture("malformed_frames.json")[index]

    with pytest.raises(MalformedFrame) as info:
        parse_frame(text)

    assert str(info.value)


@pytest.mark.parametrize(
    "body",
    [
        b"nope",
        b"[]",
        b'{"bids": [], "asks": []}',
        b'{"lastUpdateId": 1, "bids": [["1.0", "0.0"]], "asks": []}',
        fixture_text("rest_error_invalid_symbol.json").encode(),
    ],
)
def test_malformed_rest_depth_raises(body):
    with pytest.raises(MalformedFrame):
        parse_snapshot(body)


def test_largest_binance_value_is_exact_and_one_more_is_rejected():
    assert parse_levels([["92233720368.54775807", "0.00000001"]]) == [(2**63 - 1, 1)]
    with pytest.raises(ValueError, match="out of range"):
        parse_levels([["92233720368.54775808", "1.00000000"]])


def test_short_decimals_take_the_slow_exact_path():
    assert parse_levels([["1.5", "2"]]) == [(150000000, 200000000)]


@pytest.mark.parametrize("text", ["1.2.00000000", ".00000000", "1.000000000", "+1.00000000"])
def test_near_binance_forms_are_rejected(text):
    with pytest.raises(ValueError, match="not an 8-decimal number"):
        parse_levels([[text, "1.00000000"]])


# --- the fast paths against the reference parsers ----------------------------------------------

eight_decimals = st.builds(
    lambda whole, frac: f"{whole}.{frac:08d}",
    st.integers(min_value=0, max_value=MAX_INT64 // SCALE),
    st.integers(min_value=0, max_value=SCALE - 1),
)
number_like = st.one_of(
    eight_decimals,
    st.text(alphabet="0123456789.-+_ e١²", min_size=0, max_size=24),  # incl. non-ASCII digits
    st.from_regex(r"\A[0-9]{1,12}(\.[0-9]{0,10})?\Z"),
    st.from_regex(r"\A[0-9]{0,3}\.?[0-9]{0,3}\.[0-9]{8}\Z"),  # a second dot, or no integer part
)


def reference(text: object) -> int | None:
    """What ``shared.fixedpoint.parse_fixed`` makes of ``text``; None when it rejects it."""
    try:
        return parse_fixed(text)  # type: ignore[arg-type]
    except ValueError:
        return None


@settings(max_examples=500, deadline=None)
@given(eight_decimals)
def test_every_valid_eight_decimal_number_parses_as_the_reference_does(text):
    expected = reference(text)
    assume(expected is not None and expected != 0)  # out of int64, or a zero price
    # Twice: the first parse fills the cache, the second is served from it.
    assert parse_levels([[text, text]]) == [(expected, expected)]
    assert parse_levels([[text, text]]) == [(expected, expected)]


@settings(max_examples=1000, deadline=None)
@given(number_like, number_like)
def test_numbers_are_accepted_exactly_when_the_reference_accepts_them(price, qty):
    want_price, want_qty = reference(price), reference(qty)
    for _ in range(2):  # uncached, then cached
        if want_price is None or want_qty is None or want_price == 0:
            with pytest.raises(ValueError, match=r"\w"):
                parse_levels([[price, qty]])
        else:
            assert parse_levels([[price, qty]]) == [(want_price, want_qty)]


def outcome(parse):
    """The parse's result, or the error's type and text."""
    try:
        return parse()
    except Exception as exc:
        return type(exc).__name__, str(exc)


# Mostly valid values, so that one bad field among good ones comes up often.
good_int = st.integers(min_value=0, max_value=MAX_INT64)
ints = st.one_of(
    good_int, good_int, good_int, st.sampled_from([-1, MAX_INT64 + 1, 2**64 - 1, True, 1.0, "5"])
)
texts: st.SearchStrategy[object] = st.one_of(
    eight_decimals, eight_decimals, number_like, st.sampled_from([1, None, [], "0.00000000"])
)
fields = {
    "depthUpdate": {
        "E": ints,
        "s": st.sampled_from(["BTCUSDT", "BTCUSDT", 5]),
        "U": ints,
        "u": ints,
    },
    "aggTrade": {
        "E": ints,
        "s": st.sampled_from(["BTCUSDT", "BTCUSDT", None]),
        "a": ints,
        "p": texts,
        "q": texts,
        "f": ints,
        "l": ints,
        "T": ints,
        "m": st.sampled_from([True, False, True, False, 1, "true"]),
    },
}


@st.composite
def events(draw):
    kind = draw(st.sampled_from(sorted(fields)))
    data = {"e": kind}
    for name, values in fields[kind].items():
        if draw(st.integers(min_value=0, max_value=30)):  # now and then a field is missing
            data[name] = draw(values)
    if kind == "depthUpdate":
        data["b"] = [["1.00000000", "2.00000000"]]
        data["a"] = draw(st.sampled_from([[], [["3.00000000", "0.00000000"]], [["0.0", "1"]]]))
    return data


AGG = {"e": "aggTrade", "E": 1, "s": "BTCUSDT", "a": 1, "p": "1.00000000", "q": "1.00000000"}
AGG_END = {"f": 1, "l": 1, "T": 1, "m": True}


@settings(max_examples=1500, deadline=None)
@given(events())
@example({**AGG, "p": [], **AGG_END})  # unhashable: must not reach the cache
@example({**AGG, "q": {"x": 1}, **AGG_END})
@example({**AGG, "p": "0.00000000", **AGG_END})
def test_fast_paths_give_what_the_checked_paths_give(data):
    # Arrange: the checked builders are the reference (they were the only path before).
    checked = _checked_depth_update if data["e"] == "depthUpdate" else _checked_agg_trade

    def via_checked():
        try:
            return checked(data)
        except KeyError as exc:
            raise MalformedFrame(f"{data['e']} lacks field {exc.args[0]!r}") from exc
        except (TypeError, ValueError) as exc:
            raise MalformedFrame(f"{data['e']}: {exc}") from exc

    # Act / Assert: the same message, or equal structs.
    assert outcome(lambda: parse_frame(frame({"stream": "x", "data": data}))) == outcome(
        via_checked
    )
