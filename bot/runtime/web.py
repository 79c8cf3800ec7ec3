"""The ASGI application behind `peerlink serve`: health check plus each enabled adapter's routes."""

from __future__ import annotations

import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from bot.deps import Deps
from bot.runtime.probes import RequestMetrics, probe_routes

Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]


def build_web_app(deps: Deps) -> Starlette:
    routes = probe_routes(deps)
    lifespans: list[Lifespan] = []
    if deps.settings.telegram_enabled and deps.settings.telegram_webhook_url:
        from handlers.telegram.webhook import webhook

        telegram_route, telegram_lifespan = webhook(deps)
        routes.append(telegram_route)
        lifespans.append(telegram_lifespan)
    if deps.settings.slack_enabled:
        from handlers.slack.web import slack_routes

        slack, slack_lifespan = slack_routes(deps)
        routes += slack
        if slack_lifespan is not None:
            lifespans.append(slack_lifespan)
    paths = [route.path for route in routes if isinstance(route, Route)]
    middleware = [Middleware(RequestMetrics, metrics=deps.metrics, routes=paths)]
    return Starlette(routes=routes, middleware=middleware, lifespan=_together(lifespans))


def _together(lifespans: list[Lifespan]) -> Lifespan:
    """Start every adapter's lifespan in order, stop them in reverse."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for each in lifespans:
                await stack.enter_async_context(each(app))
            yield

    return lifespan


# On SIGTERM, requests in flight get this long to finish; then the lifespans stop (Slack's work
# after the acks gets STOP_GRACE_SECONDS more).
GRACE_SECONDS = 20


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
