"""``booksnap mcp`` through the SDK's own client, over stdio and streamable HTTP, against the real
pipeline (simulator, collectors, writer, query as OS processes).

What is compared with the CLI's ``--json``: every stored-data tool with a pinned ``end`` (so both
doors read the same seconds) must return the identical JSON document. The live L1/L2 book moves
up to 10 times a second, so for those the MCP answer must lie between two CLI answers (update ids
in order) and carry the same fields; when its update id equals a CLI one, the book is identical.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import jsonschema
import mcp_types as types
import pytest
from click.testing import CliRunner
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from booksnap.cli import cli
from booksnap.client import QueryClient
from booksnap.mcp_app import MAX_IN_FLIGHT
from shared.methods import METHODS
from shared.protocol import BUSY, INSUFFICIENT_DATA, INVALID_PARAMS, INVALID_REQUEST
from tests.support.pipeline import SYMBOLS, Pipeline
from tests.support.waiting import free_port, poll_for

BOOKSNAP = str(Path(sys.executable).parent / "booksnap")
TRANSPORTS = ("stdio", "http")
LIVE_VOLATILE = {"data_age_ms", "event_age_ms", "received_age_ms"}

Check = Callable[[ClientSession], Awaitable[None]]


# --- sessions ------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def session(
    pipe: Pipeline, transport: str, timeout: float = 10.0
) -> AsyncIterator[ClientSession]:
    """An initialized SDK client session on a freshly started ``booksnap mcp``."""
    log_path = pipe.root / f"mcp-{transport}.log"
    args = ["mcp", "--timeout", str(timeout)]
    if transport == "stdio":
        params = StdioServerParameters(command=BOOKSNAP, args=args, env=pipe.env)
        with log_path.open("a") as errlog:
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write, read_timeout_seconds=60) as client,
            ):
                await client.initialize()
                yield client
        return
    port = free_port()
    with log_path.open("ab") as log:
        server = subprocess.Popen(
            [BOOKSNAP, *args, "--http", f"127.0.0.1:{port}"],
            env={**os.environ, **pipe.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        await anyio.to_thread.run_sync(lambda: poll_for(_port_open(port), 30, what="mcp --http"))
        async with (
            streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write),
            ClientSession(read, write, read_timeout_seconds=60) as client,
        ):
            await client.initialize()
            yield client
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(10)
    assert code == 0, log_path.read_text()


def _port_open(port: int) -> Callable[[], bool]:
    def check() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    return check


def run(pipe: Pipeline, transport: str, check: Check, timeout: float = 10.0) -> None:
    async def main() -> None:
        async with session(pipe, transport, timeout) as client:
            await check(client)

    try:
        anyio.run(main)
    except BaseExceptionGroup as group:  # the SDK's task groups wrap a failed assertion
        raise _innermost(group) from None


def _innermost(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def cli_json(pipe: Pipeline, *args: str) -> Any:
    """The CLI's ``--json`` output (``booksnap.cli:cli`` in process, over the real socket)."""
    result = CliRunner().invoke(
        cli, [*args, "--endpoint", pipe.env["BOOKSNAP_QUERY_ENDPOINT"], "--json"]
    )
    assert result.exit_code == 0, f"booksnap {' '.join(args)}: {result.output}"
    if args[0] == "snapshots":
        return [json.loads(line) for line in result.output.splitlines() if line.strip()]
    return json.loads(result.output)


async def call(client: ClientSession, name: str, arguments: dict[str, Any]) -> Any:
    result = await client.call_tool(name, arguments)
    assert isinstance(result, types.CallToolResult)
    text = result.content[0].text  # type: ignore[union-attr]
    assert not result.is_error, f"{name}({arguments}): {text}"
    assert text.startswith(name)
    return result.structured_content


async def tool_error(
    client: ClientSession, name: str, arguments: dict[str, Any]
) -> tuple[str, Any]:
    result = await client.call_tool(name, arguments)
    assert isinstance(result, types.CallToolResult)
    assert result.is_error, f"{name}({arguments}) should fail: {result.structured_content}"
    return result.content[0].text, result.structured_content["error"]  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def settled(pipeline: Pipeline) -> int:
    """A pinned window end: every symbol has stored the seconds up to it and analytics answer."""
    endpoint = pipeline.env["BOOKSNAP_QUERY_ENDPOINT"]

    def answers(*args: str) -> bool:
        return CliRunner().invoke(cli, [*args, "--endpoint", endpoint]).exit_code == 0

    for symbol in SYMBOLS:
        for args in (
            ("order-flow", symbol, "--window", "10"),
            ("health", symbol, "--window", "10"),
            ("anomalies", symbol, "--window", "10"),
            ("volume-profile", symbol, "--hours", "1"),
            ("vacuums", symbol, "--hours", "1"),
        ):
            poll_for(functools.partial(answers, *args), 60, interval=0.5, what=" ".join(args))
    end = int(time.time()) - 1
    pipeline.wait_stored_through(end)
    return end


# --- the tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_tools_schemas_errors_and_resources(
    pipeline: Pipeline, settled: int, transport: str
) -> None:
    async def check(client: ClientSession) -> None:
        # tools: exactly the query methods, schemas valid and equal to shared/methods.py
        listed = {t.name: t for t in (await client.list_tools()).tools}
        assert list(listed) == [m.name for m in METHODS]
        for method in METHODS:
            schema = listed[method.name].input_schema
            assert schema == method.json_schema()
            assert listed[method.name].description == method.summary
            jsonschema.Draft202012Validator.check_schema(schema)

        # every int bound: the schema and the query process reject the same value, naming it
        for method in METHODS:
            validator = jsonschema.Draft202012Validator(listed[method.name].input_schema)
            base = {p.name: _valid(p.kind) for p in method.params if p.required}
            for param in (p for p in method.params if p.kind == "int"):
                for bad in (param.low - 1, param.high + 1):  # type: ignore[operator]
                    arguments = {**base, param.name: bad}
                    assert not validator.is_valid(arguments)
                    text, error = await tool_error(client, method.name, arguments)
                    assert error["code"] == INVALID_PARAMS
                    assert error["param"] == param.name, text
                    assert param.name in text

        # other bad arguments: unknown, missing, malformed, out of range
        flow = jsonschema.Draft202012Validator(listed["get_order_flow"].input_schema)
        for arguments, name in (
            ({"symbol": "BTCUSDT", "windw": 10}, "windw"),
            ({}, "symbol"),
            ({"symbol": "BTC/USDT"}, "symbol"),
        ):
            assert not flow.is_valid(arguments)
            text, error = await tool_error(client, "get_order_flow", arguments)
            assert (error["code"], error["param"]) == (INVALID_PARAMS, name), text
        # the schema says "integer or string" for a time; only the query process parses it
        text, error = await tool_error(client, "get_order_flow", {"symbol": "BTCUSDT", "end": "x"})
        assert (error["code"], error["param"]) == (INVALID_PARAMS, "end"), text
        text, error = await tool_error(
            client, "get_liquidity_vacuums", {"symbol": "BTCUSDT", "threshold": 1.5}
        )
        assert error["param"] == "threshold"

        # too little data, in words a model can act on
        text, error = await tool_error(
            client, "get_order_flow", {"symbol": "ETHUSDT", "end": settled - 5000}
        )
        assert error["code"] == INSUFFICIENT_DATA
        assert "insufficient data: have 0 snapshots, need 2" in text
        started = time.monotonic()
        text, error = await tool_error(client, "orderbook_l1", {"symbol": "B" * 70_000})
        assert error["code"] == INVALID_REQUEST, text
        assert time.monotonic() - started < 1.0  # refused before it reaches the query process
        text, _ = await tool_error(client, "no_such_tool", {})
        assert "unknown tool" in text

        # resources: the symbols with their coverage, and the analytics definitions
        uris = [r.uri for r in (await client.list_resources()).resources]
        assert uris == ["booksnap://symbols", "booksnap://docs/analytics.md"]
        symbols = json.loads((await client.read_resource("booksnap://symbols")).contents[0].text)  # type: ignore[union-attr]
        assert [s["symbol"] for s in symbols["symbols"]] == sorted(SYMBOLS)
        for entry in symbols["symbols"]:
            assert entry["publishing"] is True
            assert entry["coverage_last_hour"]["stored_seconds"] > 0
        docs = (await client.read_resource("booksnap://docs/analytics.md")).contents[0]
        assert docs.text == (Path(__file__).parents[2] / "docs/analytics.md").read_text()  # type: ignore[union-attr]

    run(pipeline, transport, check)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_tool_gives_the_cli_numbers_for_both_symbols(
    pipeline: Pipeline, settled: int, transport: str
) -> None:
    end = settled + 1  # exclusive: the last second used is `settled`
    compared: list[str] = []

    async def check(client: ClientSession) -> None:
        for symbol in SYMBOLS:
            window = {"symbol": symbol, "window_duration_secs": 10, "end": end}
            hours = {"symbol": symbol, "duration_hours": 1, "end": end}
            same = [
                ("get_order_flow", window, ["order-flow", symbol, "--window", "10"]),
                ("get_microstructure_health", window, ["health", symbol, "--window", "10"]),
                ("detect_market_anomalies", window, ["anomalies", symbol, "--window", "10"]),
                ("get_volume_profile", hours, ["volume-profile", symbol, "--hours", "1"]),
                ("get_liquidity_vacuums", hours, ["vacuums", symbol, "--hours", "1"]),
            ]
            for name, arguments, args in same:
                mcp_result = await call(client, name, arguments)
                assert mcp_result == cli_json(pipeline, *args, "--end", str(end)), name
                compared.append(f"{name} {symbol}")
            span = {"symbol": symbol, "start": settled - 20, "end": settled}
            coverage = await call(client, "coverage", span)
            assert coverage == cli_json(
                pipeline, "coverage", symbol, "--start", str(settled - 20), "--end", str(settled)
            )
            page = await call(client, "query_snapshots", {**span, "start": settled - 4})
            lines = cli_json(
                pipeline, "snapshots", symbol, "--start", str(settled - 4), "--end", str(settled)
            )
            assert page["snapshots"] == lines
            assert len(lines) == 5
            await _same_live_book(pipeline, client, symbol, "orderbook_l1", {})
            await _same_live_book(pipeline, client, symbol, "orderbook_l2", {"levels": 7})
            compared.extend(f"{n} {symbol}" for n in ("coverage", "query_snapshots", "l1", "l2"))
        status = await call(client, "status", {})
        from_cli = cli_json(pipeline, "status")
        assert sorted(status["symbols"]) == sorted(from_cli["symbols"]) == sorted(SYMBOLS)
        assert status["database"]["path"] == from_cli["database"]["path"]
        compared.append("status")

    run(pipeline, transport, check)
    assert len(compared) == 2 * 9 + 1
    print(f"\n{transport}: compared with the CLI: {', '.join(compared)}")


async def _same_live_book(
    pipe: Pipeline, client: ClientSession, symbol: str, name: str, extra: dict[str, Any]
) -> None:
    """The live book moves: the MCP answer must fall between two CLI answers, same shape."""
    args = ["l1", symbol] if name == "orderbook_l1" else ["l2", symbol, "--levels", "7"]
    before = cli_json(pipe, *args)
    during = await call(client, name, {"symbol": symbol, **extra})
    after = cli_json(pipe, *args)
    assert set(during) == set(before)
    assert before["update_id"] <= during["update_id"] <= after["update_id"]
    for cli_result in (before, after):
        if cli_result["update_id"] == during["update_id"]:
            assert _drop(cli_result, LIVE_VOLATILE) == _drop(during, LIVE_VOLATILE)
    if name == "orderbook_l2":
        assert len(during["bids"]) == len(during["asks"]) == extra["levels"]


def _drop(document: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in keys}


def _valid(kind: str) -> Any:
    return {"symbol": "BTCUSDT", "time": int(time.time()) - 5}[kind]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_slow_or_stopped_query_process_is_a_tool_error_within_the_deadline(
    pipeline: Pipeline, settled: int, transport: str
) -> None:
    deadline = 1.0
    query = pipeline.procs["query"]

    async def timed_error(client: ClientSession) -> float:
        started = time.monotonic()
        text, error = await tool_error(client, "orderbook_l1", {"symbol": "BTCUSDT"})
        elapsed = time.monotonic() - started
        assert error["code"] == "timeout"
        assert "did not answer" in text
        assert "booksnap query" in text
        return elapsed

    async def check(client: ClientSession) -> None:
        await call(client, "orderbook_l1", {"symbol": "BTCUSDT"})
        os.kill(query.pid, signal.SIGSTOP)  # slow: the process is there but does not answer
        try:
            elapsed = await timed_error(client)
            # more calls at once than the server lets wait: the extra ones are refused at
            # once, none waits past the deadline in a queue
            codes: list[Any] = []

            async def one() -> None:
                codes.append((await tool_error(client, "orderbook_l1", {"symbol": "ETHUSDT"}))[1])

            started = time.monotonic()
            async with anyio.create_task_group() as group:
                for _ in range(MAX_IN_FLIGHT + 4):
                    group.start_soon(one)
            burst = time.monotonic() - started
        finally:
            os.kill(query.pid, signal.SIGCONT)
        assert deadline <= elapsed < deadline + 2.0
        assert burst < deadline + 2.0
        assert sorted(str(e["code"]) for e in codes) == sorted(
            [str(BUSY)] * 4 + ["timeout"] * MAX_IN_FLIGHT
        )
        await call(client, "orderbook_l1", {"symbol": "BTCUSDT"})  # answers again
        if transport != "stdio":
            return
        assert query.stop() == 0  # stopped: nobody at the endpoint
        elapsed = await timed_error(client)
        assert deadline <= elapsed < deadline + 2.0
        pipeline.restart("query")
        await _eventually_answers(client)  # the same MCP server, no restart

    run(pipeline, transport, check, timeout=deadline)


async def _eventually_answers(client: ClientSession) -> None:
    for _ in range(60):
        result = await client.call_tool("orderbook_l1", {"symbol": "BTCUSDT"})
        if not result.is_error:
            return
        await anyio.sleep(0.5)
    raise AssertionError("the restarted query process never answered through MCP")


@pytest.mark.parametrize("ending", ["stdin closed", "SIGTERM", "SIGINT"])
def test_the_stdio_server_exits_cleanly_when_stdin_closes_or_on_a_signal(
    pipeline: Pipeline, ending: str
) -> None:
    server = subprocess.Popen(
        [BOOKSNAP, "mcp"],
        env={**os.environ, **pipeline.env},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert server.stdin is not None
    assert server.stdout is not None
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "0"},
        },
    }
    server.stdin.write(json.dumps(initialize).encode() + b"\n")
    server.stdin.flush()
    reply = json.loads(server.stdout.readline())
    assert reply["result"]["serverInfo"]["name"] == "booksnap"
    started = time.monotonic()
    if ending == "stdin closed":
        server.stdin.close()
    else:  # stdin stays open: the signal alone must stop it, even while a read blocks
        server.send_signal(getattr(signal, ending))
    code = server.wait(10)
    elapsed = time.monotonic() - started
    server.stdin.close()
    server.stdout.close()
    with server.stderr:  # type: ignore[union-attr]
        stderr = server.stderr.read().decode()  # type: ignore[union-attr]
    assert code == 0, stderr
    assert elapsed < 5
    assert "Traceback" not in stderr


def test_latency_through_mcp_and_the_cli(pipeline: Pipeline, settled: int) -> None:
    """Measures (prints, never asserts a time): one L1 request through each door."""
    endpoint = pipeline.env["BOOKSNAP_QUERY_ENDPOINT"]
    arguments = {"symbol": "BTCUSDT"}

    def median_ms(samples: list[float]) -> float:
        return sorted(samples)[len(samples) // 2] * 1000

    with QueryClient(endpoint, timeout=10) as client:
        direct = []
        for _ in range(50):
            started = time.perf_counter()
            client.request("orderbook_l1", arguments)
            direct.append(time.perf_counter() - started)
    through_mcp: dict[str, list[float]] = {transport: [] for transport in TRANSPORTS}

    for transport in TRANSPORTS:

        async def check(
            session_: ClientSession, samples: list[float] = through_mcp[transport]
        ) -> None:
            for _ in range(50):
                started = time.perf_counter()
                await call(session_, "orderbook_l1", arguments)
                samples.append(time.perf_counter() - started)

        run(pipeline, transport, check)
    cli_process = []
    for _ in range(3):
        started = time.perf_counter()
        done = subprocess.run(
            [BOOKSNAP, "l1", "BTCUSDT", "--json"],
            env={**os.environ, **pipeline.env},
            capture_output=True,
            check=False,
            timeout=60,
        )
        cli_process.append(time.perf_counter() - started)
        assert done.returncode == 0
    print(
        f"\nL1 median: QueryClient {median_ms(direct):.2f} ms, MCP tool call over stdio "
        f"{median_ms(through_mcp['stdio']):.2f} ms, over streamable HTTP "
        f"{median_ms(through_mcp['http']):.2f} ms, "
        f"`booksnap l1 --json` process {median_ms(cli_process):.0f} ms"
    )
