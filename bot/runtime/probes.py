"""The routes an operator's tools call, on serve and on the worker's own port: `/healthz` (alive),
`/readyz` (database reachable, migrations at head, and whatever else the process needs), and
`/metrics` (Prometheus text format). Plus the middleware that counts HTTP requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.deps import Deps
from bot.metrics import CONTENT_TYPE, Metrics
from bot.runtime.compose import database_checks

Checks = Callable[[], dict[str, bool]]


async def healthz(_request: Request) -> JSONResponse:
    """Liveness: the process answers. Never looks at the database (a restart would not fix it)."""
    return JSONResponse({"status": "ok"})


def probe_routes(deps: Deps, *, more: Checks | None = None) -> list[BaseRoute]:
    def checks() -> dict[str, bool]:
        return {**database_checks(deps), **(more() if more else {})}

    async def readyz(_request: Request) -> JSONResponse:
        found = await asyncio.to_thread(checks)
        return JSONResponse(found, status_code=200 if all(found.values()) else 503)

    async def metrics(_request: Request) -> Response:
        return Response(await asyncio.to_thread(deps.metrics.expose), media_type=CONTENT_TYPE)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]


class RequestMetrics:
    """Counts requests by route and status and times them; unknown paths share one label, so a
    scanner cannot grow the metrics without bound."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, routes: Collection[str]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = set(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in self.routes else "other"
        started, status = time.perf_counter(), 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.metrics.http_requests.labels(route=route, status=str(status)).inc()
            self.metrics.http_seconds.labels(route=route).observe(time.perf_counter() - started)
