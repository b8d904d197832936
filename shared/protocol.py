"""The JSON request/reply protocol of the query process, with its error codes and size limits.

A client sends one frame of UTF-8 JSON ``{"id": 7, "method": "orderbook_l1", "params": {...}}``
and gets back ``{"id": 7, "result": {...}}`` or ``{"id": 7, "error": {"code", "message"[,
"data"]}}``. Codes follow JSON-RPC 2.0 where it has one; the application codes sit in its
server-error range (-32000..-32099).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from shared.errors import BooksnapError

# JSON-RPC 2.0 codes
PARSE_ERROR = -32700  # not UTF-8 or not JSON
INVALID_REQUEST = -32600  # JSON, but not a request object (or wrong frames, too large)
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# application codes
NO_DATA_YET = -32001  # the writer has not created the database yet
INSUFFICIENT_DATA = -32002  # data: {"what", "have", "needed"}
NOT_FOUND = -32003  # e.g. no live book of that symbol has been received
BUSY = -32004  # too many heavy requests queued; retry shortly
STORAGE_ERROR = -32005  # the database exists but cannot be read right now
DEADLINE_EXCEEDED = -32006  # the request ran past the per-request deadline and was stopped

ERROR_NAMES = {
    PARSE_ERROR: "parse error",
    INVALID_REQUEST: "invalid request",
    METHOD_NOT_FOUND: "method not found",
    INVALID_PARAMS: "invalid params",
    INTERNAL_ERROR: "internal error",
    NO_DATA_YET: "no data yet",
    INSUFFICIENT_DATA: "insufficient data",
    NOT_FOUND: "not found",
    BUSY: "busy",
    STORAGE_ERROR: "storage error",
    DEADLINE_EXCEEDED: "deadline exceeded",
}

MAX_REQUEST_BYTES = 64 * 1024  # larger requests get an INVALID_REQUEST reply
MAX_MESSAGE_BYTES = 1024 * 1024  # ZMQ_MAXMSGSIZE: larger messages drop the connection
MAX_ID_LENGTH = 200

RequestId = str | int | None


class RequestError(BooksnapError):
    """A request that cannot be answered; becomes an error reply, never a crash."""

    def __init__(
        self,
        code: int,
        message: str,
        data: dict[str, Any] | None = None,
        request_id: RequestId = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data
        self.request_id = request_id


@dataclass(frozen=True, slots=True)
class Request:
    id: RequestId
    method: str
    params: dict[str, Any]


def split_envelope(frames: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    """Split ROUTER frames into (route, body); the route is what the reply must start with.

    A DEALER sends ``[payload]`` (ROUTER adds the identity); a REQ socket adds an empty
    delimiter, ``[b"", payload]``, which must come back too.
    """
    if len(frames) >= 2 and frames[1] == b"":
        return frames[:2], frames[2:]
    return frames[:1], frames[1:]


def parse_request(body: list[bytes]) -> Request:
    """Validate the frames of one request; RequestError says precisely what is wrong."""
    if len(body) != 1:
        raise RequestError(INVALID_REQUEST, f"expected 1 frame of JSON, got {len(body)} frames")
    payload = body[0]
    if len(payload) > MAX_REQUEST_BYTES:
        raise RequestError(
            INVALID_REQUEST, f"request of {len(payload)} bytes exceeds {MAX_REQUEST_BYTES} bytes"
        )
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(
            PARSE_ERROR, f"request is not UTF-8: {exc.reason} at {exc.start}"
        ) from exc
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise RequestError(PARSE_ERROR, f"request is not JSON: {str(exc)[:200]}") from exc
    if not isinstance(document, dict):
        raise RequestError(
            INVALID_REQUEST, f"request must be a JSON object, got {type(document).__name__}"
        )
    request_id = document.get("id")
    if not _valid_id(request_id):
        raise RequestError(
            INVALID_REQUEST, f"'id' must be a string, an integer or null, got {_short(request_id)}"
        )
    method = document.get("method")
    if not isinstance(method, str) or not method:
        raise RequestError(
            INVALID_REQUEST, "'method' must be a non-empty string", request_id=request_id
        )
    params = document.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise RequestError(
            INVALID_PARAMS,
            "'params' must be a JSON object (named parameters)",
            request_id=request_id,
        )
    return Request(id=request_id, method=method[:100], params=params)


def encode_result(request_id: RequestId, result: Any) -> bytes:
    """The success reply."""
    return _dumps({"id": request_id, "result": result})


def encode_error(
    request_id: RequestId, code: int, message: str, data: dict[str, Any] | None = None
) -> bytes:
    """The error reply."""
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return _dumps({"id": request_id, "error": error})


def encode_request(request_id: RequestId, method: str, params: dict[str, Any]) -> bytes:
    """What QueryClient sends."""
    return _dumps({"id": request_id, "method": method, "params": params})


def decode_reply(payload: bytes) -> dict[str, Any]:
    """Parse a reply (client side); ValueError if it is not one."""
    document = json.loads(payload.decode("utf-8"))
    if not isinstance(document, dict) or ("result" not in document and "error" not in document):
        raise ValueError("not a booksnap query reply")
    return document


def _dumps(document: dict[str, Any]) -> bytes:
    try:
        return json.dumps(document, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except ValueError:
        # Analytics may yield NaN/inf (e.g. a ratio over nothing); JSON has no such numbers.
        return json.dumps(_finite(document), separators=(",", ":")).encode("utf-8")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


def _valid_id(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) < 2**63
    return isinstance(value, str) and len(value) <= MAX_ID_LENGTH


def _short(value: object) -> str:
    return f"{type(value).__name__} {str(value)[:40]!r}"
