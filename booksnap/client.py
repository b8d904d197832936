"""QueryClient: a DEALER socket that sends JSON requests to the query process and awaits replies.

The Python client of the query process: the ``booksnap`` CLI, the MCP server, the tests and the
benchmarks all go through it. Methods that page (``iter_snapshots``) page here, not in callers.

A request that gets no reply within the timeout means the query process is not running (or is
overloaded): ZeroMQ connects lazily and never reports a missing peer, so a timeout is the only
signal.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import zmq

from booksnap.coverage import DAY, day_chunks, ends_missing
from shared.curve import secure_client
from shared.curve_keys import load_keyring
from shared.errors import BooksnapError
from shared.protocol import ERROR_NAMES, decode_reply, encode_request


class QueryTimeout(BooksnapError):
    """No reply within the timeout."""


class QueryFailed(BooksnapError):
    """The query process answered with an error reply."""

    def __init__(self, code: int, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data or {}

    @property
    def name(self) -> str:
        return ERROR_NAMES.get(self.code, "error")


class QueryClient:
    """Send requests to ``endpoint``; each ``request`` waits at most ``timeout`` seconds."""

    def __init__(
        self,
        endpoint: str,
        timeout: float = 10.0,
        context: zmq.Context[zmq.Socket[bytes]] | None = None,
        keys_dir: str | None = None,
    ) -> None:
        # With CURVE keys the client authenticates with the client key pair (ConfigError if the
        # folder lacks it); without, the socket is plain, as the query process's then is.
        self.keyring = load_keyring(keys_dir, "client") if keys_dir else None
        self.endpoint = endpoint
        self.timeout = timeout
        self._own_context = context is None
        self.context: zmq.Context[zmq.Socket[bytes]] = context or zmq.Context()
        self._ids = itertools.count(1)
        self._socket: zmq.Socket[bytes] | None = None

    def _connect(self) -> zmq.Socket[bytes]:
        if self._socket is None:
            sock = self.context.socket(zmq.DEALER)
            sock.setsockopt(zmq.LINGER, 0)  # never hang on exit waiting for a dead server
            if self.keyring is not None:
                secure_client(sock, self.keyring, "query")
            sock.connect(self.endpoint)
            self._socket = sock
        return self._socket

    def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """The result of ``method``; QueryFailed on an error reply, QueryTimeout on silence."""
        request_id = next(self._ids)
        reply = self.send_raw([encode_request(request_id, method, params or {})], request_id)
        if "error" in reply:
            error = reply["error"]
            raise QueryFailed(
                int(error.get("code", 0)), str(error.get("message")), error.get("data")
            )
        return reply["result"]

    def iter_snapshots(
        self,
        symbol: str,
        start: int,
        end: int | None = None,
        *,
        levels: int | None = None,
        trades: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Every stored second of ``start..end`` (inclusive) as JSON-ready dicts, page by page.

        The first page pins ``end`` (default: now), so later pages do not chase new data; a long
        range costs one request per page (the query process sets the page size).
        """
        cursor: int | None = start
        while cursor is not None:
            params: dict[str, Any] = {"symbol": symbol, "start": cursor}
            for name, value in (("end", end), ("levels", levels), ("trades", trades or None)):
                if value is not None:
                    params[name] = value
            page = self.request("query_snapshots", params)
            yield from page["snapshots"]
            cursor, end = page["next_start"], page["end"]

    def iter_coverage(
        self, symbol: str, start: int, end: int, day: int = DAY
    ) -> Iterator[tuple[dict[str, Any], bool]]:
        """``coverage`` of ``start..end`` (inclusive) one day at a time, for progress.

        Yields each day's reply and whether its last second is missing (one more one-second
        request when the day's list of missing ranges was cut short); ``booksnap.coverage.merge``
        joins them into the reply of one request.
        """
        for first, last in day_chunks(start, end, day):
            part = self.request("coverage", {"symbol": symbol, "start": first, "end": last})
            missing = ends_missing(part)
            if missing is None:
                edge = self.request("coverage", {"symbol": symbol, "start": last, "end": last})
                missing = edge["stored_seconds"] == 0
            yield part, missing

    def send_raw(self, frames: list[bytes], request_id: object = None) -> dict[str, Any]:
        """Send arbitrary frames and return the reply whose id matches (None: the next reply)."""
        sock = self._connect()
        sock.send_multipart(frames)
        deadline = time.monotonic() + self.timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not sock.poll(int(remaining * 1000) + 1, zmq.POLLIN):
                self._reset()
                raise QueryTimeout(
                    f"no reply from the query process at {self.endpoint} within {self.timeout:g} s"
                )
            reply = decode_reply(sock.recv_multipart()[-1])
            # A late reply to an earlier, timed-out request is skipped, never mistaken for ours.
            if request_id is None or reply.get("id") == request_id:
                return reply

    def _reset(self) -> None:
        # After a timeout the socket may still deliver the stale reply later: start afresh.
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None

    def close(self) -> None:
        self._reset()
        if self._own_context:
            self.context.term()

    def __enter__(self) -> QueryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
