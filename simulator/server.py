"""The simulator process: one aiohttp server (REST, WebSocket, admin) driven by a market engine.

The engine task advances the market source on a short tick and publishes what it emitted; the
REST handlers read the same source, so a snapshot is always the book after the last emitted
event. ``run`` returns within a few seconds of the stop flag being set.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp import WSCloseCode, web

from shared.lifecycle import StopFlag
from simulator.admin import AdminApi
from simulator.config import SimConfig
from simulator.faults import Fault, FaultBoard, FaultError
from simulator.hub import StreamHub
from simulator.limits import WeightLimiter
from simulator.market import MarketSource
from simulator.rest import RestApi
from simulator.streams import StreamEndpoint, WsSettings
from simulator.wire import server_shutdown_payload

log = logging.getLogger(__name__)

STATEFUL_FAULTS = (
    "gap",
    "stall",
    "malformed",
    "corrupt_ticker",
    "rest_error",
    "slow_rest",
    "clear",
)


class SimulatorServer:
    """Assembles the handlers around a market source and runs them."""

    def __init__(self, config: SimConfig, source: MarketSource) -> None:
        self.config = config
        self.source = source
        self.board = FaultBoard()
        self.hub = StreamHub(self.board)
        self.limiter = WeightLimiter(config.weight_limit, config.ban_seconds)
        self.rest = RestApi(source, self.limiter, self.board)
        self.streams = StreamEndpoint(
            self.hub,
            self.board,
            WsSettings(
                config.ping_interval,
                config.pong_timeout,
                config.max_connection_seconds,
                config.message_limit,
            ),
            source.symbols,
        )
        self.started = time.monotonic()
        self.port = config.port
        self._tasks: set[asyncio.Task[None]] = set()

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes(self.rest.routes())
        app.add_routes(AdminApi(self).routes())
        app.router.add_get("/ws", self.streams.handle)
        app.router.add_get("/ws/{streams:.*}", self.streams.handle)
        app.router.add_get("/stream", self.streams.handle)
        return app

    async def run(self, stop: StopFlag) -> None:
        """Serve until ``stop`` is set, then close connections and the listener."""
        runner = web.AppRunner(
            self.app(), handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        try:
            await site.start()
            sockets = runner.addresses
            self.port = sockets[0][1] if sockets else self.config.port
            log.info(
                "Simulator listening on http://%s:%d (source %s, %d symbols: %s)",
                self.config.host,
                self.port,
                self.config.source,
                len(self.source.symbols),
                ",".join(self.source.symbols[:10]),
            )
            for fault in self.config.faults:
                self.inject(fault)
            engine = asyncio.create_task(self._engine())
            summary = asyncio.create_task(self._summaries())
            while not stop and not engine.done():
                await asyncio.sleep(0.2)
            log.info("Stopping: closing %d WebSocket connections", len(self.streams.connections))
            for task in (engine, summary, *self._tasks):
                task.cancel()
            await asyncio.gather(engine, summary, *self._tasks, return_exceptions=True)
            if engine.done() and not engine.cancelled() and engine.exception():
                raise engine.exception()  # type: ignore[misc]
            await asyncio.wait_for(
                self.streams.close_all(WSCloseCode.GOING_AWAY, "Simulator stopping"), 3.0
            )
        finally:
            log.info("Stopping: closing the listener")
            await runner.cleanup()
        log.info("Simulator stopped")

    async def _engine(self) -> None:
        """Advance the source and publish; flush the 1000 ms depth stream every second."""
        tick = 0.01 if self.config.source == "replay" else 0.02
        next_slow = (int(time.time() * 1000) // 1000 + 1) * 1000
        while True:
            now_ms = int(time.time() * 1000)
            events = self.source.advance(now_ms)
            if events:
                self.hub.publish(events)
            if now_ms >= next_slow:
                self.hub.flush_slow_depth(now_ms)
                next_slow = max(next_slow + 1000, (now_ms // 1000) * 1000)
            await asyncio.sleep(tick)

    async def _summaries(self) -> None:
        while True:
            await asyncio.sleep(self.config.summary_interval)
            counts, rest = self.hub.counts, self.rest.counts
            log.info(
                "Summary (%.0f s): %d connections open (%d opened so far); sent depth %d, "
                "trade %d, aggTrade %d, bookTicker %d; gapped %d, malformed %d; REST depth %d, "
                "exchangeInfo %d, rejected %d, faulted %d",
                self.config.summary_interval,
                len(self.streams.connections),
                self.streams.opened_total,
                counts["depth@100ms"],
                counts["trade"],
                counts["aggTrade"],
                counts["bookTicker"],
                counts["gapped"],
                counts["malformed"],
                rest["depth"],
                rest["exchangeInfo"],
                rest["rejected"],
                rest["faulted"],
            )
            counts.clear()
            rest.clear()

    def inject(self, fault: Fault) -> str:
        """Apply a fault now (connection faults) or arm it (stream and REST faults)."""
        if fault.symbol is not None and fault.symbol not in self.source.symbols:
            raise FaultError(f"symbol {fault.symbol} is not served by this simulator")
        log.warning("Injecting fault: %s", fault.describe())
        if fault.name == "gap_all":
            for symbol in self.source.symbols:
                self.board.add(Fault("gap", symbol), time.monotonic())
            return f"gaps armed on {len(self.source.symbols)} symbols"
        if fault.name in STATEFUL_FAULTS:
            self.board.add(fault, time.monotonic())
            return "armed" if fault.name != "clear" else "cleared"
        connections = self.streams.matching(fault.symbol)
        if fault.name == "disconnect":
            for conn in connections:
                if "code" in fault.params:
                    self._spawn(conn.close(fault.int_param("code", 1000), "Disconnect fault"))
                else:
                    conn.abort("disconnect fault")
            return f"{len(connections)} connections dropped"
        assert fault.name == "server_shutdown"
        payload = server_shutdown_payload(int(time.time() * 1000))
        for conn in connections:
            conn.enqueue(payload)
        self._spawn(self._close_later(connections, fault.float_param("grace", 1.0)))
        return f"serverShutdown sent to {len(connections)} connections"

    async def _close_later(self, connections: list[Any], grace: float) -> None:
        await asyncio.sleep(grace)
        await asyncio.gather(
            *(c.close(WSCloseCode.GOING_AWAY, "Server shutdown") for c in connections)
        )

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def state(self) -> dict[str, Any]:
        now = time.monotonic()
        return {
            "source": self.config.source,
            "port": self.port,
            "uptime_seconds": round(now - self.started, 3),
            "symbols": {s: self.source.describe(s) for s in self.source.symbols},
            "connections": [c.describe() for c in self.streams.connections.values()],
            "faults": self.board.pending(now),
            "faults_injected": self.board.injected,
            "weights": self.limiter.describe(time.time()),
            "rest_statuses": {str(k): v for k, v in sorted(self.limiter.statuses.items())},
            "weight_charged": self.limiter.charged,
        }
