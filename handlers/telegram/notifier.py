"""`bot.ports.Notifier` for Telegram: what the outbox sends later (introductions, reminders, notices)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application

from bot.i18n import translator
from bot.ports import Address, DeliveryError, Platform, Reply, SentRef
from handlers.telegram.render import deep_link
from handlers.telegram.send import LinkButton, chat_id, send_reply

FORBIDDEN = "forbidden"  # never opened the bot, or blocked it: see bot.reachability


def _seconds(value: timedelta | float) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramNotifier:
    platform: Platform = "telegram"

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], *, language: str) -> None:
        self.application = application
        self.language = language

    def _link(self) -> LinkButton:
        # Outbox messages have no reader locale at hand: the community's default language labels it.
        username = self.application.bot.username
        label = translator(self.language).t("telegram.open_bot")
        return LinkButton(url=deep_link(username, "start") if username else None, label=label)

    async def send(self, to: Address, message: Reply) -> SentRef:
        await self.application.initialize()  # idempotent; the worker may send before polling starts
        try:
            sent = await send_reply(self.application.bot, chat_id(to.chat), message, self._link())
        except Forbidden as exc:
            raise DeliveryError(FORBIDDEN, permanent=True) from exc
        except RetryAfter as exc:
            raise DeliveryError("rate limited", retry_after=_seconds(exc.retry_after)) from exc
        except BadRequest as exc:  # chat not found, bot removed from the group: retrying cannot help
            raise DeliveryError(f"refused: {exc.message}"[:200], permanent=True) from exc
        except TelegramError as exc:  # network trouble, timeouts: the outbox tries again later
            raise DeliveryError(f"telegram: {exc.message}"[:200]) from exc
        if sent is None:
            raise DeliveryError("empty message", permanent=True)
        return SentRef(platform="telegram", chat=to.chat, message_id=str(sent.message_id))
