"""Turning handler results and exceptions into reply bytes, with one mapping of errors to codes."""

from __future__ import annotations

import logging
from typing import Any

from query.analytics import InsufficientData, ParameterError
from query.reader import NoDataYet, TooMuchData
from shared.errors import DecodeError, StoreUnavailable
from shared.protocol import (
    INSUFFICIENT_DATA,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    NO_DATA_YET,
    STORAGE_ERROR,
    RequestError,
    RequestId,
    encode_error,
    encode_result,
)

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 500  # an error message never echoes a huge parameter back in full


def reply_for_result(request_id: RequestId, result: Any) -> bytes:
    return encode_result(request_id, result)


def reply_for_exception(request_id: RequestId, method: str, exc: BaseException) -> bytes:
    """The error reply for ``exc``; unexpected exceptions are logged with their traceback."""
    code, message, data = classify(exc, method)
    return encode_error(request_id, code, _clip(message), data)


def classify(exc: BaseException, method: str) -> tuple[int, str, dict[str, Any] | None]:
    """(code, message, data) of an exception raised while answering ``method``."""
    if isinstance(exc, RequestError):
        return exc.code, exc.message, exc.data
    if isinstance(exc, ParameterError):
        return INVALID_PARAMS, str(exc), {"param": exc.param[:100]}
    if isinstance(exc, InsufficientData):
        return (
            INSUFFICIENT_DATA,
            str(exc),
            {"what": exc.what, "have": exc.have, "needed": exc.needed},
        )
    if isinstance(exc, TooMuchData):
        return INVALID_PARAMS, str(exc), {"param": "range"}
    if isinstance(exc, NoDataYet):
        return NO_DATA_YET, str(exc), None
    if isinstance(exc, StoreUnavailable):
        return STORAGE_ERROR, str(exc), None
    if isinstance(exc, DecodeError):
        log.error("%s: stored data does not decode: %s", method, exc)
        return STORAGE_ERROR, f"stored data does not decode: {exc}", None
    log.exception("%s failed unexpectedly", method, exc_info=exc)
    return INTERNAL_ERROR, f"{method} failed: {type(exc).__name__}: {exc}", None


def _clip(message: str) -> str:
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[: MAX_MESSAGE_CHARS - 3] + "..."
