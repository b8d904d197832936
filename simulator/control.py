"""The JSON control messages a stream connection accepts (SUBSCRIBE, UNSUBSCRIBE, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from simulator.wire import parse_stream

MAX_STREAMS = 1024  # per connection, as on Binance
METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")


@dataclass(frozen=True, slots=True)
class Request:
    """A valid control request."""

    method: str
    params: list[Any]
    id: int | str | None


class RequestError(Exception):
    """An invalid request; ``code``/``msg`` are Binance's (0 unknown property, 1 bad value,
    2 invalid request, 3 invalid JSON)."""

    def __init__(self, code: int, msg: str, request_id: object = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.request_id = request_id


def parse_request(text: str) -> Request:
    """Parse and validate one control message; RequestError otherwise."""
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise RequestError(3, f"Invalid JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise RequestError(3, "Invalid JSON: expected an object")
    request_id = message.get("id")
    if request_id is not None and (
        isinstance(request_id, bool) or not isinstance(request_id, int | str)
    ):
        raise RequestError(2, "Invalid request: request ID must be an unsigned integer")
    method = message.get("method")
    if method not in METHODS:
        raise RequestError(2, f"Invalid request: unknown variant `{method}`", request_id)
    params = message.get("params", [])
    if not isinstance(params, list):
        raise RequestError(2, "Invalid request: params must be an array", request_id)
    if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
        for name in params:
            if not isinstance(name, str) or parse_stream(name) is None:
                raise RequestError(2, f"Invalid request: invalid stream name {name!r}", request_id)
    if method in ("SET_PROPERTY", "GET_PROPERTY") and (not params or params[0] != "combined"):
        raise RequestError(0, "Unknown property", request_id)
    if method == "SET_PROPERTY" and (len(params) != 2 or not isinstance(params[1], bool)):
        raise RequestError(1, "Invalid value type: expected Boolean", request_id)
    return Request(method, params, request_id)


def reply(result: object, request_id: object) -> bytes:
    # {"result": null, "id": 1}
    return orjson.dumps({"result": result, "id": request_id})


def error_reply(error: RequestError) -> bytes:
    # {"error": {"code": 2, "msg": "..."}, "id": 1}
    return orjson.dumps({"error": {"code": error.code, "msg": error.msg}, "id": error.request_id})
