"""`POST /telegram/webhook` for `peerlink serve`: Telegram pushes updates, signed with our secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update

from bot.config import Settings
from bot.deps import Deps
from handlers.telegram.application import ALLOWED_UPDATES, TelegramApp, application_of, ready
from handlers.telegram.inbox import StoringQueue

log = logging.getLogger(__name__)

PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_secret(settings: Settings) -> str:
    """TELEGRAM_WEBHOOK_SECRET, or one derived from the token so the webhook is never left open
    (every web process derives the same one). Telegram allows A-Z a-z 0-9 _ - in it."""
    if settings.telegram_webhook_secret is not None:
        return settings.telegram_webhook_secret.get_secret_value()
    assert settings.telegram_bot_token is not None
    token = settings.telegram_bot_token.get_secret_value()
    return hashlib.sha256(f"peerlink-webhook:{token}".encode()).hexdigest()


def _receiver(application: TelegramApp, secret: str) -> Callable[[Request], Any]:
    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=403)
        update = _update(await request.body(), application)
        if update is None:
            log.warning("refused a signed Telegram update that is not one")
            return Response(status_code=400)
        queue = application.update_queue
        assert isinstance(queue, StoringQueue)
        try:
            await queue.deliver(update)  # stored first; the application's update loop does the work
        except SQLAlchemyError:
            # Not stored, so not acknowledged: on any answer but a 2xx Telegram delivers it again.
            log.warning(
                "the database is unreachable: Telegram update %s is refused, to be sent again", update.update_id
            )
            return Response(status_code=503)
        return Response(status_code=200)  # a repeated delivery too: it is processed once

    return receive


def _update(body: bytes, application: TelegramApp) -> Update | None:
    """The update in a body Telegram signed with our secret; None when it is not a well-formed one."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return None
    try:
        return Update.de_json(data, application.bot)
    except (KeyError, TypeError, ValueError, AttributeError):  # fields of the wrong shape inside
        return None


def _lifespan(application: TelegramApp, url: str, secret: str) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        await ready(application)
        await application.bot.set_webhook(url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        await application.start()
        log.info("Telegram webhook set to %s", url)
        try:
            yield
        finally:
            # The webhook stays set: other web processes keep serving it.
            await application.stop()
            await application.shutdown()

    return lifespan


def webhook(deps: Deps) -> tuple[Route, Callable[[Any], AbstractAsyncContextManager[None]]]:
    """The route and the lifespan (start the application, setWebhook) to add to the web app."""
    url = deps.settings.telegram_webhook_url
    assert url, "TELEGRAM_WEBHOOK_URL is not set"
    application = application_of(deps)
    secret = webhook_secret(deps.settings)
    return Route(PATH, _receiver(application, secret), methods=["POST"]), _lifespan(application, url, secret)
