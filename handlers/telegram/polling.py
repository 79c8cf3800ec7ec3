"""Long polling, for `peerlink worker` when no webhook is configured. Started with the Application's
own pieces (initialize/start/updater) rather than `run_polling`, so it shares the worker's loop."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.deps import Deps
from handlers.telegram.application import ALLOWED_UPDATES, application_of, ready

log = logging.getLogger(__name__)


def polling_wanted(deps: Deps) -> bool:
    return deps.settings.telegram_enabled and not deps.settings.telegram_webhook_url


async def run_polling(deps: Deps, *, stop: asyncio.Event | None = None, poll_timeout: float = 10) -> None:
    """Poll until `stop` is set or the task is cancelled; then stop cleanly."""
    application = application_of(deps)
    updater = application.updater
    if updater is None:
        raise RuntimeError("TELEGRAM_WEBHOOK_URL is set: updates come to the web process, not polling")
    await ready(application)
    # start_polling removes any webhook first (Telegram serves one or the other).
    await updater.start_polling(timeout=timedelta(seconds=poll_timeout), allowed_updates=ALLOWED_UPDATES)
    await application.start()
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        log.info("stopping Telegram polling")
        if updater.running:
            await updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
