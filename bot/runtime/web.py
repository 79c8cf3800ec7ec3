"""The ASGI application behind `peerlink serve`: health check plus each enabled adapter's routes."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.deps import Deps
from bot.runtime.compose import database_checks

Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]


async def healthz(_request: Request) -> JSONResponse:
    """Liveness: the process answers. Never looks at the database (a restart would not fix it)."""
    return JSONResponse({"status": "ok"})


def readiness(deps: Deps) -> Callable[[Request], Awaitable[JSONResponse]]:
    """Readiness: send traffic here only while the database answers and carries every migration."""

    async def readyz(_request: Request) -> JSONResponse:
        checks = await asyncio.to_thread(database_checks, deps)
        return JSONResponse(checks, status_code=200 if all(checks.values()) else 503)

    return readyz


def build_web_app(deps: Deps) -> Starlette:
    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readiness(deps), methods=["GET"]),
    ]
    lifespans: list[Lifespan] = []
    if deps.settings.telegram_enabled and deps.settings.telegram_webhook_url:
        from handlers.telegram.webhook import webhook

        telegram_route, telegram_lifespan = webhook(deps)
        routes.append(telegram_route)
        lifespans.append(telegram_lifespan)
    if deps.settings.slack_enabled:
        from handlers.slack.web import slack_routes

        routes += slack_routes(deps)
    return Starlette(routes=routes, lifespan=_together(lifespans))


def _together(lifespans: list[Lifespan]) -> Lifespan:
    """Start every adapter's lifespan in order, stop them in reverse."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for each in lifespans:
                await stack.enter_async_context(each(app))
            yield

    return lifespan


GRACE_SECONDS = 20  # on SIGTERM, requests in flight get this long to finish


class _Server(uvicorn.Server):
    """uvicorn re-raises the signal that stopped it, so a requested stop exited 143; a stop we
    asked for and completed is a clean exit (0)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def serve(deps: Deps, *, host: str, port: int) -> None:
    # log_config=None: uvicorn's records go through our (redacting) root handler, not its own
    config = uvicorn.Config(
        build_web_app(deps), host=host, port=port, log_config=None, timeout_graceful_shutdown=GRACE_SECONDS
    )
    _Server(config).run()
