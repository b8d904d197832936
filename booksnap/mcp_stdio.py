"""The stdio transport of ``booksnap mcp``, stoppable by SIGINT/SIGTERM while stdin is idle.

The SDK reads stdin on a worker thread that a cancel must wait for, so with its default reader
Ctrl-C did nothing until the client wrote or closed stdin (measured: still running 8 s after
SIGINT). Here a daemon thread reads the lines and hands them over a bounded queue: a signal
cancels the server at once, and the blocked thread dies with the process. The server still
exits when the client closes stdin.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import anyio
import anyio.from_thread
import anyio.lowlevel
from anyio.streams.memory import MemoryObjectSendStream
from mcp.server.stdio import stdio_server

from shared.ratelog import RateLimitedLog

log = logging.getLogger("booksnap.mcp")

MAX_LINE = 16 * 1024 * 1024  # bytes of one JSON-RPC message; a longer line is dropped whole
READ_BYTES = 64 * 1024
QUEUE_LINES = 16  # lines read ahead of the server (the reader waits beyond that)


class StdinLines:
    """``async for line in StdinLines(fd)``: the text lines of a file descriptor, read on a
    daemon thread with ``os.read`` (no buffered object whose lock the thread could hold when
    the interpreter shuts down)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.rejects = RateLimitedLog(log)

    async def __aiter__(self) -> AsyncIterator[str]:
        send, receive = anyio.create_memory_object_stream[str](QUEUE_LINES)
        token = anyio.lowlevel.current_token()
        thread = threading.Thread(
            target=self._read, args=(send, token), name="mcp-stdin", daemon=True
        )
        thread.start()
        async with receive:
            async for line in receive:
                yield line

    def _read(self, send: MemoryObjectSendStream[str], token: Any) -> None:
        try:
            for line in self._lines():
                anyio.from_thread.run(
                    send.send, line.decode("utf-8", errors="replace"), token=token
                )
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, RuntimeError, OSError):
            return  # the server stopped listening, its event loop is gone, or stdin broke
        finally:
            with contextlib.suppress(RuntimeError):
                anyio.from_thread.run_sync(send.close, token=token)

    def _lines(self) -> Iterator[bytes]:
        """Complete lines until EOF; a line over MAX_LINE bytes is dropped whole."""
        pending = bytearray()
        dropping = False
        while chunk := os.read(self.fd, READ_BYTES):
            start = 0
            while (newline := chunk.find(b"\n", start)) >= 0:
                if not dropping:
                    pending += chunk[start : newline + 1]
                    if len(pending) <= MAX_LINE:
                        yield bytes(pending)
                    else:
                        self.rejects.reject("line too long", f"over {MAX_LINE} bytes")
                pending.clear()
                dropping = False
                start = newline + 1
            if not dropping:
                pending += chunk[start:]
                if len(pending) > MAX_LINE:
                    self.rejects.reject("line too long", f"over {MAX_LINE} bytes")
                    pending.clear()
                    dropping = True
        if pending and not dropping:
            yield bytes(pending)  # a last line without its newline


async def run_stdio(server: Any) -> None:
    """Serve ``server`` over stdin/stdout until stdin closes or SIGINT/SIGTERM arrives."""
    async with anyio.create_task_group() as group:
        group.start_soon(_cancel_on_signal, group.cancel_scope)
        stdin = cast(Any, StdinLines(sys.stdin.fileno()))  # the SDK only iterates over it
        log.info("serving MCP over stdio")
        async with stdio_server(stdin=stdin) as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())
        group.cancel_scope.cancel()  # stdin closed: stop the signal watcher too


async def _cancel_on_signal(scope: anyio.CancelScope) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            log.info("stopping on %s", signal.Signals(signum).name)
            scope.cancel()
            return
