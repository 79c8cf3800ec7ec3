"""The routes an operator's tools call, on serve and on the worker's own port: `/healthz` (alive),
`/readyz` (database reachable, migrations at head, and whatever else the process needs), and
`/metrics` (Prometheus text format). Plus the middleware that counts HTTP requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable, Collection, Iterator

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.deps import Deps
from bot.metrics import CONTENT_TYPE, Metrics
from bot.runtime.compose import database_checks

Checks = Callable[[], dict[str, bool]]

log = logging.getLogger(__name__)


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


class _Quiet(uvicorn.Server):
    """A server inside a process that handles its own signals (the worker): it installs none."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_probes(deps: Deps, *, port: int, more: Checks, stop: asyncio.Event) -> None:
    """The worker's own probes and metrics on `port`, until `stop` is set. A port already in use is
    found here, before uvicorn would exit the process over it: the worker then goes on without them."""
    routes = probe_routes(deps, more=more)
    paths = [route.path for route in routes if isinstance(route, Route)]
    app = Starlette(routes=routes, middleware=[Middleware(RequestMetrics, metrics=deps.metrics, routes=paths)])
    listener = socket.socket()
    try:
        listener.bind(("0.0.0.0", port))  # scraped from outside the container
        listener.listen(128)
    except OSError as problem:
        log.error("the worker's probes cannot listen on port %d (%s); the worker goes on without them", port, problem)
        listener.close()
        return
    server = _Quiet(uvicorn.Config(app, log_config=None, lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    await stop.wait()
    server.should_exit = True
    await serving
    listener.close()
