"""The REST API: ``/api/v3/depth``, ``/api/v3/exchangeInfo``, ``/api/v3/ping``, ``/api/v3/time``.

Every response carries ``X-MBX-USED-WEIGHT-1M``; errors have Binance's JSON bodies and codes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter

import orjson
from aiohttp import web

from shared.fixedpoint import format_fixed
from simulator.faults import FaultBoard
from simulator.instruments import instrument_for
from simulator.limits import WeightLimiter, depth_weight
from simulator.market import MarketSource
from simulator.wire import error_body, snapshot_payload

log = logging.getLogger(__name__)

MAX_DEPTH_LIMIT = 5000
EXCHANGE_INFO_WEIGHT = 20
WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"

_STATUS_ERRORS = {
    500: (-1000, "An unknown error occurred while processing the request."),
    502: (-1000, "An unknown error occurred while processing the request."),
    503: (-1008, "Server is currently overloaded with other requests. Please try again later."),
    504: (
        -1007,
        "Timeout waiting for response from backend server. Send status unknown; "
        "execution status unknown.",
    ),
}


class RestApi:
    """REST handlers over a market source, a weight limiter and the fault board."""

    def __init__(self, source: MarketSource, limiter: WeightLimiter, board: FaultBoard) -> None:
        self.source = source
        self.limiter = limiter
        self.board = board
        self.symbols = set(source.symbols)
        self.counts: Counter[str] = Counter()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/v3/depth", self.depth),
            web.get("/api/v3/exchangeInfo", self.exchange_info),
            web.get("/api/v3/ping", self.ping),
            web.get("/api/v3/time", self.server_time),
        ]

    async def depth(self, request: web.Request) -> web.Response:
        self.counts["depth"] += 1
        query = request.query
        limit_text = query.get("limit", "100")
        limit = int(limit_text) if limit_text.isdigit() and len(limit_text) < 10 else 100
        used, rejection = self._charge(request, depth_weight(min(limit, MAX_DEPTH_LIMIT)))
        if rejection is not None:
            return rejection
        symbol = query.get("symbol", "").upper()
        fault = self.board.take_rest_error(symbol)
        if fault is not None:
            return self._fault_response(request, fault[0], fault[1], used)
        delay = self.board.take_slow_rest(symbol)
        if delay:
            log.info("Delaying a depth request for %s by %.1f s (slow_rest fault)", symbol, delay)
            await asyncio.sleep(delay)
        unknown = set(query) - {"symbol", "limit"}
        if unknown:
            return self._error(
                400,
                -1104,
                f"Not all sent parameters were read; read "
                f"'{len(query) - len(unknown)}' parameter(s) but was "
                f"sent '{len(query)}'.",
                used,
            )
        if not query.get("symbol"):
            return self._error(
                400,
                -1102,
                "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
                used,
            )
        if not limit_text.isdigit() or len(limit_text) >= 10:
            return self._error(
                400,
                -1100,
                "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.",
                used,
            )
        if symbol not in self.symbols:
            return self._error(400, -1121, "Invalid symbol.", used)
        if limit < 1:
            return self._error(
                400, -1100, "Illegal value for parameter 'limit'; legal range is '1-5000'.", used
            )
        snapshot = self.source.snapshot(symbol, min(limit, MAX_DEPTH_LIMIT))
        return self._json(snapshot_payload(snapshot), used)

    async def exchange_info(self, request: web.Request) -> web.Response:
        self.counts["exchangeInfo"] += 1
        used, rejection = self._charge(request, EXCHANGE_INFO_WEIGHT)
        if rejection is not None:
            return rejection
        wanted = sorted(self.symbols)
        if "symbol" in request.query:
            wanted = [request.query["symbol"].upper()]
        elif "symbols" in request.query:
            try:
                listed = orjson.loads(request.query["symbols"])
                assert isinstance(listed, list)
                assert all(isinstance(s, str) for s in listed)
            except (orjson.JSONDecodeError, AssertionError):
                return self._error(
                    400, -1100, "Illegal characters found in parameter 'symbols'.", used
                )
            wanted = [s.upper() for s in listed]
        if any(s not in self.symbols for s in wanted):
            return self._error(400, -1121, "Invalid symbol.", used)
        body = {
            "timezone": "UTC",
            "serverTime": int(time.time() * 1000),
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": self.limiter.limit,
                },
                {
                    "rateLimitType": "RAW_REQUESTS",
                    "interval": "MINUTE",
                    "intervalNum": 5,
                    "limit": 61000,
                },
            ],
            "exchangeFilters": [],
            "symbols": [symbol_info(s) for s in wanted],
        }
        return self._json(orjson.dumps(body), used)

    async def ping(self, request: web.Request) -> web.Response:
        used, rejection = self._charge(request, 1)
        return rejection or self._json(b"{}", used)

    async def server_time(self, request: web.Request) -> web.Response:
        used, rejection = self._charge(request, 1)
        body = orjson.dumps({"serverTime": int(time.time() * 1000)})
        return rejection or self._json(body, used)

    def _charge(self, request: web.Request, weight: int) -> tuple[int, web.Response | None]:
        ip = request.remote or "?"
        verdict = self.limiter.charge(ip, weight, time.time())
        if verdict.status == 200:
            return verdict.used, None
        self.counts["rejected"] += 1
        if verdict.status == 429:
            msg = (
                f"Too many requests; current limit of IP({ip}) is {self.limiter.limit} "
                f"requests per minute. Please use the websocket for live updates to avoid "
                f"polling the API."
            )
        else:
            until = int((time.time() + verdict.retry_after) * 1000)
            msg = (
                f"Way too many requests; IP({ip}) banned until {until}. Please use the "
                f"websocket for live updates to avoid bans."
            )
        response = self._error(verdict.status, -1003, msg, verdict.used)
        response.headers["Retry-After"] = str(verdict.retry_after)
        return verdict.used, response

    def _fault_response(
        self, request: web.Request, status: int, retry_after: int, used: int
    ) -> web.Response:
        self.counts["faulted"] += 1
        log.info("Answering a depth request with HTTP %d (rest_error fault)", status)
        if status in (429, 418):
            ip = request.remote or "?"
            msg = (
                f"Too many requests; current limit of IP({ip}) is {self.limiter.limit} "
                f"requests per minute."
                if status == 429
                else f"Way too many requests; IP({ip}) banned until "
                f"{int((time.time() + retry_after) * 1000)}."
            )
            response = self._error(status, -1003, msg, used)
            response.headers["Retry-After"] = str(retry_after)
            return response
        code, msg = _STATUS_ERRORS[status]
        return self._error(status, code, msg, used)

    def _error(self, status: int, code: int, msg: str, used: int) -> web.Response:
        return self._json(error_body(code, msg), used, status)

    def _json(self, body: bytes, used: int, status: int = 200) -> web.Response:
        return web.Response(
            status=status,
            body=body,
            content_type="application/json",
            charset="UTF-8",
            headers={WEIGHT_HEADER: str(used)},
        )


def symbol_info(symbol: str) -> dict[str, object]:
    """One entry of exchangeInfo's ``symbols``, with the filters a book client needs."""
    instrument = instrument_for(symbol)
    return {
        "symbol": symbol,
        "status": "TRADING",
        "baseAsset": instrument.base_asset,
        "baseAssetPrecision": 8,
        "quoteAsset": instrument.quote_asset,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": format_fixed(instrument.tick),
                "maxPrice": "1000000.00000000",
                "tickSize": format_fixed(instrument.tick),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": format_fixed(instrument.step),
                "maxQty": "9000.00000000",
                "stepSize": format_fixed(instrument.step),
            },
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }
