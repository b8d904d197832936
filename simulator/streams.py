"""WebSocket stream connections: ``/ws/<stream>`` (raw) and ``/stream?streams=a/b`` (combined).

Each connection has a sender task (its queue → the socket, held while a stall fault lasts) and
a keeper task (server pings, the pong deadline, the maximum connection lifetime). The handler
itself reads what the client sends: pings, pongs and JSON control messages, at most
``message_limit`` per second or the connection is closed, as Binance does.

A client's ping is answered through the same queue as the data: its pong leaves after every
frame the server had queued before it read the ping (and is held by a stall like them), as a
server that writes one ordered socket does; a client may rely on it to prove that nothing it
was sent is still on the way.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from dataclasses import dataclass

from aiohttp import WSCloseCode, WSMsgType, web

from simulator.control import MAX_STREAMS, RequestError, error_reply, parse_request, reply
from simulator.faults import FaultBoard
from simulator.hub import StreamHub
from simulator.limits import MessageRate
from simulator.wire import error_body, parse_stream

log = logging.getLogger(__name__)

QUEUE_LIMIT = 100_000  # frames held for one connection before it counts as a slow consumer


@dataclass(frozen=True, slots=True)
class Pong:
    """A pong waiting in a connection's queue behind the frames queued before its ping."""

    data: bytes


@dataclass(frozen=True, slots=True)
class WsSettings:
    ping_interval: float = 20.0
    pong_timeout: float = 60.0
    max_lifetime: float = 86_400.0
    message_limit: int = 5


class Connection:
    """One client connection and its subscriptions."""

    def __init__(
        self, cid: int, ws: web.WebSocketResponse, request: web.Request, combined: bool
    ) -> None:
        self.cid = cid
        self.ws = ws
        self.transport = request.transport
        self.peer = request.remote or "?"
        self.path = request.path_qs
        self.combined = combined
        self.streams: list[str] = []
        self.symbols: set[str] = set()
        self.opened = time.monotonic()
        self.queue: deque[bytes | Pong] = deque()
        self.wakeup = asyncio.Event()
        self.pings: dict[bytes, float] = {}  # payload → when sent (monotonic)
        self.sent = 0
        self.close_reason = ""

    def enqueue(self, data: bytes | Pong) -> None:
        if len(self.queue) >= QUEUE_LIMIT:
            if not self.close_reason:
                self.close_reason = "slow consumer"
                asyncio.get_running_loop().create_task(
                    self.close(WSCloseCode.POLICY_VIOLATION, "slow consumer")
                )
            return
        self.queue.append(data)
        self.wakeup.set()

    def set_streams(self, names: list[str]) -> None:
        self.streams = names
        self.symbols = {s.symbol for n in names if (s := parse_stream(n))}

    async def close(self, code: int, reason: str) -> None:
        """Close with a close frame (never waits long for the client's reply)."""
        self.close_reason = self.close_reason or reason
        if not self.ws.closed:
            try:
                await asyncio.wait_for(self.ws.close(code=code, message=reason.encode()), 2.0)
            except (TimeoutError, ConnectionError):
                self.abort(reason)

    def abort(self, reason: str) -> None:
        """Drop the TCP connection without a close frame, like a network failure."""
        self.close_reason = self.close_reason or reason
        if self.transport is not None:
            self.transport.abort()

    def describe(self) -> dict[str, object]:
        return {
            "id": self.cid,
            "peer": self.peer,
            "combined": self.combined,
            "streams": self.streams,
            "age_seconds": round(time.monotonic() - self.opened, 3),
            "frames_sent": self.sent,
            "queued": len(self.queue),
        }


class StreamEndpoint:
    """The aiohttp handler of every stream connection, and the registry of open ones."""

    def __init__(
        self, hub: StreamHub, board: FaultBoard, settings: WsSettings, symbols: tuple[str, ...]
    ) -> None:
        self.hub = hub
        self.board = board
        self.settings = settings
        self.symbols = set(symbols)
        self.connections: dict[int, Connection] = {}
        self.ids = itertools.count(1)
        self.opened_total = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        combined = request.path.startswith("/stream")
        raw = (
            request.query.get("streams", "") if combined else request.match_info.get("streams", "")
        )
        names = [n for n in raw.split("/") if n]
        bad = [n for n in names if parse_stream(n) is None]
        if bad or len(names) > MAX_STREAMS:
            body = error_body(-1100, f"Illegal characters found in parameter 'streams': {bad[:3]}")
            return web.Response(status=400, body=body, content_type="application/json")
        ws = web.WebSocketResponse(
            autoping=False, compress=False, timeout=2.0, max_msg_size=64 * 1024
        )
        await ws.prepare(request)
        conn = Connection(next(self.ids), ws, request, combined)
        self._subscribe(conn, names)
        self.connections[conn.cid] = conn
        self.opened_total += 1
        log.info("WS #%d open from %s: %s", conn.cid, conn.peer, conn.path)
        tasks = [asyncio.create_task(self._sender(conn)), asyncio.create_task(self._keeper(conn))]
        try:
            await self._receive(conn)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.hub.unsubscribe(conn, conn.streams)
            self.connections.pop(conn.cid, None)
            log.info(
                "WS #%d closed (%s) after %.1f s, %d frames sent",
                conn.cid,
                conn.close_reason or "by client",
                time.monotonic() - conn.opened,
                conn.sent,
            )
        return ws

    async def _receive(self, conn: Connection) -> None:
        rate = MessageRate(self.settings.message_limit)
        async for msg in conn.ws:
            if not rate.hit(time.monotonic()):
                await conn.close(WSCloseCode.POLICY_VIOLATION, "Too many requests")
                break
            if msg.type == WSMsgType.PING:
                conn.enqueue(Pong(bytes(msg.data[:125])))
            elif msg.type == WSMsgType.PONG:
                sent = conn.pings.pop(bytes(msg.data), None)
                if sent is not None:  # a pong answers its ping and every older one
                    conn.pings = {p: t for p, t in conn.pings.items() if t > sent}
            elif msg.type == WSMsgType.TEXT:
                conn.enqueue(self._control(conn, msg.data))
            elif msg.type == WSMsgType.BINARY:
                conn.enqueue(error_reply(RequestError(3, "Invalid JSON: binary frame")))
            elif msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break

    def _control(self, conn: Connection, text: str) -> bytes:
        try:
            request = parse_request(text)
        except RequestError as exc:
            return error_reply(exc)
        if request.method == "SUBSCRIBE":
            if len(set(conn.streams) | set(request.params)) > MAX_STREAMS:
                return error_reply(RequestError(2, "Invalid request: too many streams", request.id))
            self._subscribe(conn, request.params)
        elif request.method == "UNSUBSCRIBE":
            self.hub.unsubscribe(conn, request.params)
            conn.set_streams([n for n in conn.streams if n not in request.params])
        elif request.method == "LIST_SUBSCRIPTIONS":
            return reply(conn.streams, request.id)
        elif request.method == "GET_PROPERTY":
            return reply(conn.combined, request.id)
        elif request.method == "SET_PROPERTY":
            conn.combined = bool(request.params[1])
        return reply(None, request.id)

    def _subscribe(self, conn: Connection, names: list[str]) -> None:
        new = [n for n in dict.fromkeys(names) if n not in conn.streams]
        conn.set_streams(conn.streams + new)
        self.hub.subscribe(conn, new)
        unknown = {s for s in conn.symbols if s not in self.symbols}
        if unknown:
            log.warning(
                "WS #%d subscribed to symbols this simulator does not serve: %s",
                conn.cid,
                ", ".join(sorted(unknown)),
            )

    async def _sender(self, conn: Connection) -> None:
        ws = conn.ws
        while not ws.closed:
            await conn.wakeup.wait()
            conn.wakeup.clear()
            while conn.queue and not ws.closed:
                if self.board.stalled(conn.symbols, time.monotonic()):
                    await asyncio.sleep(0.05)
                    continue
                item = conn.queue.popleft()
                if isinstance(item, Pong):
                    await ws.pong(item.data)
                    continue
                await ws.send_frame(item, WSMsgType.TEXT)
                conn.sent += 1

    async def _keeper(self, conn: Connection) -> None:
        """Server pings, the pong deadline and the connection lifetime."""
        settings = self.settings
        next_ping = conn.opened + settings.ping_interval
        while not conn.ws.closed:
            await asyncio.sleep(min(0.2, settings.ping_interval / 4))
            now = time.monotonic()
            if now - conn.opened >= settings.max_lifetime:
                await conn.close(WSCloseCode.GOING_AWAY, "Connection lifetime expired")
                return
            if self.board.stalled(conn.symbols, now):
                next_ping = max(next_ping, now)  # a stalled server sends nothing, not even pings
                continue
            if conn.pings and now - min(conn.pings.values()) >= settings.pong_timeout:
                await conn.close(WSCloseCode.POLICY_VIOLATION, "Pong timeout")
                return
            if now >= next_ping:
                payload = str(int(time.time() * 1000)).encode()
                conn.pings[payload] = now
                await conn.ws.ping(payload)
                next_ping = now + settings.ping_interval

    def matching(self, symbol: str | None) -> list[Connection]:
        """Open connections, or only those carrying ``symbol``."""
        return [c for c in self.connections.values() if symbol is None or symbol in c.symbols]

    async def close_all(self, code: int, reason: str) -> None:
        await asyncio.gather(*(c.close(code, reason) for c in list(self.connections.values())))
