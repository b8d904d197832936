"""The admin API: ``POST /admin/fault`` injects a fault, ``GET /admin/state`` reports state.

curl -s -XPOST localhost:9100/admin/fault -d '{"fault":"gap","symbol":"BTCUSDT","count":2}'
curl -s localhost:9100/admin/state
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson
from aiohttp import web

from simulator.faults import Fault, FaultError, make_fault


class Injector(Protocol):
    def inject(self, fault: Fault) -> str: ...

    def state(self) -> dict[str, Any]: ...


class AdminApi:
    """Admin handlers; the server does the work."""

    def __init__(self, injector: Injector) -> None:
        self.injector = injector

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/admin/fault", self.fault), web.get("/admin/state", self.state)]

    async def fault(self, request: web.Request) -> web.Response:
        try:
            body = orjson.loads(await request.read())
            if not isinstance(body, dict):
                raise FaultError('the body must be a JSON object like {"fault": "gap"}')
            params = {k: v for k, v in body.items() if k not in ("fault", "symbol")}
            fault = make_fault(body.get("fault"), body.get("symbol"), **params)
            done = self.injector.inject(fault)
        except (orjson.JSONDecodeError, FaultError) as exc:
            return _json({"ok": False, "error": str(exc)}, 400)
        return _json({"ok": True, "fault": fault.describe(), "done": done})

    async def state(self, request: web.Request) -> web.Response:
        return _json(self.injector.state())


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")
