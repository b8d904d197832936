from __future__ import annotations

import json

import pytest

from shared.protocol import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    MAX_REQUEST_BYTES,
    PARSE_ERROR,
    RequestError,
    decode_reply,
    encode_error,
    encode_request,
    encode_result,
    parse_request,
    split_envelope,
)


def test_parse_request_accepts_a_well_formed_request():
    request = parse_request(
        [b'{"id": 7, "method": "orderbook_l1", "params": {"symbol": "BTCUSDT"}}']
    )

    assert (request.id, request.method, request.params) == (
        7,
        "orderbook_l1",
        {"symbol": "BTCUSDT"},
    )


def test_missing_params_mean_no_params():
    assert parse_request([b'{"id": "a", "method": "status"}']).params == {}


@pytest.mark.parametrize(
    ("frames", "code", "fragment"),
    [
        ([b"\xff\xfe{}"], PARSE_ERROR, "not UTF-8"),
        ([b"{not json"], PARSE_ERROR, "not JSON"),
        ([b'{"id": 1, "method": "x", "v": NaN}'], PARSE_ERROR, "NaN"),
        ([b"[" * 100_00 + b"]" * 100_00], PARSE_ERROR, "not JSON"),
        ([b"1" * 5000], PARSE_ERROR, "not JSON"),
        ([b"[1, 2]"], INVALID_REQUEST, "JSON object"),
        ([b'{"id": 1}'], INVALID_REQUEST, "'method'"),
        ([b'{"id": 1, "method": 5}'], INVALID_REQUEST, "'method'"),
        ([b'{"id": [1], "method": "status"}'], INVALID_REQUEST, "'id'"),
        ([b'{"id": true, "method": "status"}'], INVALID_REQUEST, "'id'"),
        ([b'{"id": 1, "method": "status", "params": [1]}'], INVALID_PARAMS, "named parameters"),
        ([b"{}", b"{}"], INVALID_REQUEST, "got 2 frames"),
        ([], INVALID_REQUEST, "got 0 frames"),
        ([b" " * (MAX_REQUEST_BYTES + 1)], INVALID_REQUEST, "exceeds"),
    ],
)
def test_bad_requests_raise_request_error_naming_the_problem(frames, code, fragment):
    with pytest.raises(RequestError) as caught:
        parse_request(frames)

    assert caught.value.code == code
    assert fragment in caught.value.message


def test_request_error_keeps_the_id_when_it_was_readable():
    with pytest.raises(RequestError) as caught:
        parse_request([b'{"id": 42, "method": ""}'])

    assert caught.value.request_id == 42


def test_envelope_of_dealer_and_req_clients():
    assert split_envelope([b"id", b"payload"]) == ([b"id"], [b"payload"])
    assert split_envelope([b"id", b"", b"payload"]) == ([b"id", b""], [b"payload"])
    assert split_envelope([b"id"]) == ([b"id"], [])


def test_replies_round_trip_and_non_finite_floats_become_null():
    ok = decode_reply(encode_result(3, {"x": float("nan"), "y": [float("inf"), 1.5]}))
    err = decode_reply(encode_error("a", INVALID_PARAMS, "bad", {"param": "levels"}))

    assert ok == {"id": 3, "result": {"x": None, "y": [None, 1.5]}}
    assert err == {
        "id": "a",
        "error": {"code": INVALID_PARAMS, "message": "bad", "data": {"param": "levels"}},
    }


def test_encode_request_is_json():
    assert json.loads(encode_request(1, "status", {})) == {
        "id": 1,
        "method": "status",
        "params": {},
    }


def test_decode_reply_rejects_non_replies():
    with pytest.raises(ValueError, match="not a booksnap query reply"):
        decode_reply(b'{"id": 1}')
