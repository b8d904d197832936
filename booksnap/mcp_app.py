"""The MCP server object: tool and resource handlers that forward to the query process.

Every tool call is one ``QueryClient`` request made on a worker thread (the client blocks on a
ZeroMQ poll), with its own DEALER socket on one shared context, so concurrent calls over HTTP
never share a socket. The client's timeout is the request deadline: a query process that is
down or stuck costs a clear tool error after ``timeout`` seconds, never a hang. At most
``MAX_IN_FLIGHT`` requests wait at once; one more is refused at once rather than queued behind
them (a queued call would miss its deadline).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import mcp_types as types
import zmq
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError

from booksnap import mcp_resources, mcp_results
from booksnap.client import QueryClient, QueryFailed, QueryTimeout
from shared.ratelog import RateLimitedLog

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_IN_FLIGHT = 16  # the query process itself serves 8 per client and 32 in total

INSTRUCTIONS = (
    "Order-book analytics of Binance spot symbols from booksnap, which stores an exact snapshot "
    "of each book every second. Read the booksnap://symbols resource for the symbols and the "
    "seconds stored, booksnap://docs/analytics.md for how each number is defined. Prices and "
    "sizes are exact 8-decimal strings; times are unix seconds or ISO-8601 UTC."
)


class QueryBridge:
    """Runs QueryClient requests off the event loop, one socket per request."""

    def __init__(self, endpoint: str, timeout: float, context: zmq.Context[Any]) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self.context = context
        self.limiter = anyio.CapacityLimiter(MAX_IN_FLIGHT)
        # a client chooses how often its calls fail: one line per cause and minute, with counts
        self.failures = RateLimitedLog(log, level=logging.INFO)
        self.timeouts = RateLimitedLog(log, level=logging.WARNING)

    def full(self) -> bool:
        return self.limiter.available_tokens < 1

    async def run(self, work: Callable[[QueryClient], T]) -> T:
        def in_thread() -> T:
            client = QueryClient(self.endpoint, timeout=self.timeout, context=self.context)
            try:
                return work(client)
            finally:
                client.close()  # closes the socket only: the context is shared

        return await anyio.to_thread.run_sync(in_thread, limiter=self.limiter)

    async def call_tool(self, name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        method = mcp_results.method_named(name)
        if method is None:
            self.failures.reject("unknown tool", name)
            return mcp_results.unknown_tool(name)
        params = arguments if isinstance(arguments, dict) else {}
        refused = mcp_results.refusal(name, params, in_flight_full=self.full())
        if refused is not None:
            self.failures.reject(f"{method.name}: refused", str(refused.structured_content))
            return refused
        started = time.perf_counter()
        try:
            result = await self.run(lambda client: client.request(method.name, params))
        except QueryTimeout:
            self.timeouts.reject("no reply", f"{method.name} after {self.timeout:g} s")
            return mcp_results.timeout_error(name, self.endpoint, self.timeout)
        except QueryFailed as exc:
            self.failures.reject(f"{method.name}: {exc.name}", exc.message)
            return mcp_results.query_error(name, exc.code, exc.message, exc.data)
        except (ValueError, zmq.ZMQError) as exc:  # not a booksnap reply, or a broken socket
            self.timeouts.reject("bad reply", f"{method.name}: {type(exc).__name__}: {exc}")
            return mcp_results.bad_reply(name, self.endpoint, f"{type(exc).__name__}: {exc}")
        log.debug("%s answered in %.1f ms", name, (time.perf_counter() - started) * 1000)
        return mcp_results.success(name, result)

    async def read_resource(self, uri: str) -> types.ReadResourceResult:
        if uri == mcp_resources.ANALYTICS_URI:
            try:
                contents = mcp_resources.analytics_contents()
            except mcp_resources.ResourceMissing as exc:
                raise MCPError(types.INTERNAL_ERROR, str(exc)) from None
        elif uri == mcp_resources.SYMBOLS_URI:
            if self.full():
                raise MCPError(types.INTERNAL_ERROR, "busy: too many requests in flight")
            try:
                contents = await self.run(mcp_resources.symbols_contents)
            except QueryTimeout:
                raise MCPError(
                    types.INTERNAL_ERROR,
                    f"the query process did not answer at {self.endpoint} within "
                    f"{self.timeout:g} s; start it with `booksnap query` (or `make demo`)",
                ) from None
            except QueryFailed as exc:
                raise MCPError(types.INTERNAL_ERROR, f"{exc.name}: {exc.message[:500]}") from None
            except (ValueError, zmq.ZMQError) as exc:
                raise MCPError(
                    types.INTERNAL_ERROR, f"not a booksnap query reply: {str(exc)[:200]}"
                ) from None
        else:
            known = ", ".join(r.uri for r in mcp_resources.RESOURCES)
            raise MCPError(types.INVALID_PARAMS, f"unknown resource {uri[:100]!r}; known: {known}")
        return types.ReadResourceResult(contents=[contents])


def build_server(bridge: QueryBridge, version: str) -> Server[Any]:
    """The MCP server with one tool per query method and the two resources."""

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=mcp_results.tools())

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        return await bridge.call_tool(params.name, params.arguments)

    async def list_resources(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=list(mcp_resources.RESOURCES))

    async def read_resource(
        ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        return await bridge.read_resource(params.uri)

    return Server(
        "booksnap",
        version=version,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
    )
