"""PTB's update processor, made fair: updates run concurrently across people and in order for each
person (`bot.fairness`), so one person's flood never holds up another's answer. A person over their
budget is told once a minute to slow down, in their language; the rest of the flood is dropped."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.fairness import FairScheduler, Turn
from bot.i18n import pick_language, translator
from bot.log_context import about

IN_FLIGHT = 256  # updates held by the processor at once (each person's queue is bounded far lower)


def person_of(update: object) -> str:
    if isinstance(update, Update):
        if update.effective_user is not None:
            return f"telegram:{update.effective_user.id}"
        if update.effective_chat is not None:
            return f"telegram:chat:{update.effective_chat.id}"
    return "telegram:other"


class FairUpdates(BaseUpdateProcessor):
    def __init__(self, scheduler: FairScheduler, *, language: str) -> None:
        super().__init__(max_concurrent_updates=IN_FLIGHT)
        self.scheduler = scheduler
        self.language = language

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        async with self.scheduler.turn(person_of(update)) as turn:
            if turn is Turn.run:
                request = update.update_id if isinstance(update, Update) else None
                with about(platform="telegram", request=request):
                    await coroutine
                return
        close = getattr(coroutine, "close", None)
        if close is not None:
            close()  # never awaited: the update is dropped
        if turn is Turn.refused_tell and isinstance(update, Update):
            await self._slow_down(update)

    async def _slow_down(self, update: Update) -> None:
        await tell_chat("core.slow_down", update, default_language=self.language)

    async def initialize(self) -> None:
        """Nothing to set up: the scheduler lives in `Deps`."""

    async def shutdown(self) -> None:
        """Nothing to free."""


async def tell_chat(key: str, update: Update, *, default_language: str) -> None:
    """A word from the bot itself (not an answer of the engine) in the chat an update came from, in
    the sender's Telegram language."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return
    language = pick_language(user.language_code if user else None, default=default_language)
    await update.get_bot().send_message(chat.id, translator(language).t(key))
