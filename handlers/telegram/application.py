"""The one PTB `Application` of a process: built from settings, listeners registered, notifier and
deep links handed to `Deps`. Polling (worker) and the webhook (web) both start this same object."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot.config import Settings
from bot.deps import Deps
from bot.fairness import FairScheduler
from bot.ports import SEND_TIMEOUT
from handlers.application.conversation import Conversations
from handlers.telegram.fairness import FairUpdates
from handlers.telegram.inbox import InboxUpdates, StoringQueue, TelegramInbox, telegram_replay
from handlers.telegram.listeners import add_listeners
from handlers.telegram.menu import set_menu
from handlers.telegram.notifier import TelegramNotifier
from handlers.telegram.render import deep_link
from storage.db import transaction
from storage.queries import bot_username, remember_bot_username

log = logging.getLogger(__name__)

TelegramApp = Application[Any, Any, Any, Any, Any, Any]
DEPS = "deps"
ALLOWED_UPDATES = ["message", "callback_query"]


def file_url(api_url: str) -> str:
    """`https://api.telegram.org/bot` -> `https://api.telegram.org/file/bot` (same for a local server)."""
    base, _, last = api_url.rstrip("/").rpartition("/")
    return f"{base}/file/{last}"


def build_application(
    settings: Settings, fairness: FairScheduler | None = None, inbox: TelegramInbox | None = None
) -> TelegramApp:
    """`fairness`: updates concurrent across people, in order for each (handlers/telegram/fairness.py);
    `inbox`: each update stored before it is confirmed to Telegram (handlers/telegram/inbox.py)."""
    assert settings.telegram_bot_token is not None, "Telegram is off without TELEGRAM_BOT_TOKEN"
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .base_file_url(file_url(settings.telegram_api_url))
        # ~30 messages/s overall, 20/min per group; a 429 is retried only where callers ask for it
        .rate_limiter(AIORateLimiter(max_retries=0))
        .job_queue(None)  # timed work belongs to our scheduler and outbox, shared by every platform
    )
    seconds = SEND_TIMEOUT.total_seconds()
    builder = builder.connect_timeout(seconds).read_timeout(seconds).write_timeout(seconds).pool_timeout(seconds)
    if inbox is not None:
        builder = builder.update_queue(StoringQueue(inbox))
        fairness = fairness or FairScheduler()
        builder = builder.concurrent_updates(InboxUpdates(fairness, inbox, language=settings.default_language))
    elif fairness is not None:
        builder = builder.concurrent_updates(FairUpdates(fairness, language=settings.default_language))
    if settings.telegram_webhook_url:
        builder = builder.updater(None)  # updates arrive at POST /telegram/webhook
    application: TelegramApp = builder.build()
    return application


def register(application: TelegramApp, deps: Deps, inbox: TelegramInbox | None = None) -> None:
    application.bot_data[DEPS] = deps
    add_listeners(application, Conversations(deps), inbox)


def install(deps: Deps) -> TelegramApp:
    """Build, register, and make Telegram reachable for the outbox (notifier), invites (links) and
    the worker taking up updates that failed (inbox)."""
    assert deps.settings.telegram_bot_token is not None
    bot_id = deps.settings.telegram_bot_token.get_secret_value().split(":", 1)[0]  # a token starts with the bot's id
    inbox = TelegramInbox(deps, bot_id)
    application = build_application(deps.settings, deps.fairness, inbox)
    register(application, deps, inbox)
    deps.notifiers["telegram"] = TelegramNotifier(application, language=deps.settings.default_language)
    deps.inbox["telegram"] = telegram_replay(application, inbox)

    def link(payload: str) -> str | None:
        try:
            username: str | None = application.bot.username
        except RuntimeError:  # not initialised in this process (a web process while the worker polls)
            username = _known_username(deps)
        return deep_link(username, payload) if username else None

    deps.links["telegram"] = link
    return application


def _known_username(deps: Deps) -> str | None:
    """The username the process that called getMe wrote down (`ready`)."""
    with deps.sessions() as session:
        return bot_username(session=session, platform="telegram")


def application_of(deps: Deps) -> TelegramApp:
    notifier = deps.notifiers.get("telegram")
    if not isinstance(notifier, TelegramNotifier):
        raise RuntimeError("Telegram is not configured: set TELEGRAM_BOT_TOKEN")
    return notifier.application


def _remember_username(deps: Deps, username: str) -> None:
    """Every process builds invite links (`/peer invite` in Slack reaches the web process), but only
    one that called getMe knows the username: the database tells the others."""
    with transaction(deps.sessions) as session:
        remember_bot_username(session=session, platform="telegram", username=username, now=deps.clock.now())


async def ready(application: TelegramApp) -> None:
    """getMe (who we are), then the command menu."""
    await application.initialize()
    deps: Deps = application.bot_data[DEPS]
    await asyncio.to_thread(_remember_username, deps, application.bot.username)
    await set_menu(application.bot, deps.settings.default_language)
    log.info("Telegram bot @%s (%s) ready", application.bot.username, application.bot.id)
