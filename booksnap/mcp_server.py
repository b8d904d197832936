"""``booksnap mcp``: the query process's tools for AI assistants, over the Model Context Protocol.

stdio is what desktop assistants launch (stdout carries the protocol, logs go to stderr); the
server exits when its client closes stdin. ``--http HOST:PORT`` serves streamable HTTP on a
loopback address instead. The server only talks to the running query process, through
``QueryClient``: it never opens the database.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import anyio
import click
import zmq

from shared.config import (
    DEFAULT_QUERY_ENDPOINT,
    ENV_MCP_HTTP,
    ENV_MCP_TIMEOUT,
    ENV_QUERY_ENDPOINT,
    FiniteRange,
    check_endpoint,
    check_log_level,
    log_level_option,
)
from shared.errors import ConfigError
from shared.lifecycle import stop_on_signals
from shared.log import configure_logging

log = logging.getLogger("booksnap.mcp")

DEFAULT_TIMEOUT = 10.0
MIN_TIMEOUT, MAX_TIMEOUT = 0.1, 600.0
HTTP_PATH = "/mcp"
LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True, slots=True)
class McpConfig:
    """How ``booksnap mcp`` runs; ``__post_init__`` refuses what it cannot serve safely."""

    endpoint: str
    timeout: float = DEFAULT_TIMEOUT
    http_host: str | None = None  # None: stdio
    http_port: int = 0
    log_level: str = "WARNING"

    def __post_init__(self) -> None:
        check_endpoint("--endpoint", self.endpoint)
        check_log_level("--log-level", self.log_level)
        if not MIN_TIMEOUT <= self.timeout <= MAX_TIMEOUT:
            raise ConfigError("--timeout", f"must be {MIN_TIMEOUT:g}..{MAX_TIMEOUT:g} s")
        if self.http_host is None:
            return
        if not 1 <= self.http_port <= 65535:
            raise ConfigError("--http", f"the port must be 1..65535, got {self.http_port}")
        if not is_loopback(self.http_host):
            # Anyone who can reach the port could query (and load) the pipeline: wait for auth.
            raise ConfigError(
                "--http",
                f"refusing the non-loopback host {self.http_host[:60]!r}: the MCP server has no "
                "authentication yet, so it only serves 127.0.0.1, ::1 or localhost. To reach it "
                "from another machine, forward a loopback port over SSH.",
            )


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # another host name: it may resolve anywhere


def parse_http(value: str) -> tuple[str, int]:
    """``127.0.0.1:8765``, ``[::1]:8765``, ``localhost:8765`` or ``8765`` → (host, port)."""
    text = value.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "127.0.0.1", text
    host = host.removeprefix("[").removesuffix("]") or "127.0.0.1"
    if not (port_text.isascii() and port_text.isdigit()) or len(port_text) > 5:
        raise ConfigError("--http", f"expected HOST:PORT (e.g. 127.0.0.1:8765), got {value[:60]!r}")
    return host, int(port_text)


@click.command(name="mcp")
@click.option(
    "--endpoint",
    envvar=ENV_QUERY_ENDPOINT,
    default=DEFAULT_QUERY_ENDPOINT,
    show_default=True,
    help=f"The query process's endpoint (env {ENV_QUERY_ENDPOINT}).",
)
@click.option(
    "--timeout",
    envvar=ENV_MCP_TIMEOUT,
    default=DEFAULT_TIMEOUT,
    show_default=True,
    type=FiniteRange(MIN_TIMEOUT, MAX_TIMEOUT),
    help="Seconds to wait for the query process before a tool call fails (the request "
    "deadline; env BOOKSNAP_MCP_TIMEOUT).",
)
@click.option(
    "--http",
    "http",
    envvar=ENV_MCP_HTTP,
    metavar="HOST:PORT",
    default=None,
    help="Serve streamable HTTP at http://HOST:PORT/mcp instead of stdio (loopback only; env "
    "BOOKSNAP_MCP_HTTP).",
)
@log_level_option
def main(endpoint: str, timeout: float, http: str | None, log_level: str) -> None:
    """Serve the query tools to AI assistants over MCP (stdio, or streamable HTTP).

    Every query method is a tool with the same parameters and limits as the query process;
    results are its JSON plus a one-line summary. Needs a running query process.

    \b
    Examples:
        booksnap mcp                          # stdio: what a desktop assistant launches
        booksnap mcp --http 127.0.0.1:8765    # streamable HTTP at http://127.0.0.1:8765/mcp
    """
    try:
        host, port = parse_http(http) if http is not None else (None, 0)
        config = McpConfig(
            endpoint=endpoint,
            timeout=timeout,
            http_host=host,
            http_port=port,
            log_level=log_level.upper(),
        )
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    configure_logging(process="mcp", level=config.log_level)
    if config.log_level != "DEBUG":
        logging.getLogger("mcp").setLevel("WARNING")  # the SDK logs every HTTP session at INFO
    serve(config)


def serve(config: McpConfig) -> None:
    # The SDK takes ~1 s to import: `booksnap --help` loads this module and must not pay it.
    from booksnap.mcp_app import QueryBridge, build_server  # noqa: PLC0415
    from booksnap.mcp_stdio import run_stdio  # noqa: PLC0415

    context: zmq.Context[Any] = zmq.Context()
    try:
        server = build_server(
            QueryBridge(config.endpoint, config.timeout, context), _booksnap_version()
        )
        if config.http_host is None:
            anyio.run(run_stdio, server)
        else:
            _run_http(server, config.http_host, config.http_port)
    except KeyboardInterrupt:
        pass
    finally:
        context.destroy(linger=0)
        log.info("stopped")


def _run_http(server: Any, host: str, port: int) -> None:
    import uvicorn  # noqa: PLC0415  (see serve)
    from mcp.server.transport_security import TransportSecuritySettings  # noqa: PLC0415

    shown = f"[{host}]" if ":" in host else host
    # DNS-rebinding protection: a browser page must not reach the server through a hostile name.
    names = sorted({shown, "127.0.0.1", "localhost", "[::1]"})
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{name}:*" for name in names],
        allowed_origins=[f"http://{name}:*" for name in names],
    )
    app = server.streamable_http_app(
        streamable_http_path=HTTP_PATH, host=host, transport_security=security
    )
    log.info("serving MCP over streamable HTTP at http://%s:%d%s", shown, port, HTTP_PATH)
    # uvicorn handles SIGINT/SIGTERM itself (stops accepting, closes sessions), then restores
    # the previous handlers and re-raises the signal: ours record it, so the exit code is 0.
    with stop_on_signals():
        uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).run()


def _booksnap_version() -> str:
    try:
        return version("booksnap")
    except PackageNotFoundError:
        return "0"
