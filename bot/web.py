"""The ASGI application behind `peerlink serve`: health check plus each enabled adapter's routes."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.app import Deps


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def build_web_app(deps: Deps) -> Starlette:
    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"])]
    return Starlette(routes=routes)
