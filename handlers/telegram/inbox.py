"""Telegram's side of the inbox (bot/inbox.py): an update is stored before Telegram learns we have it,
under `telegram:<bot id>:<update_id>`, then processed; its end is recorded after its handlers ran.

- Webhook: `StoringQueue.deliver` stores it before the 200 (when the database is unreachable the
  route answers 503, and Telegram delivers the update again later).
- Polling: the Updater puts each fetched update in the application's queue, a `StoringQueue`, before
  it confirms them with the next getUpdates; `put` waits until the update is stored, so while the
  database is away nothing more is confirmed and Telegram keeps the updates.
- `InboxUpdates` (the fair update processor, handlers/telegram/fairness.py) records each stored
  update's end after its turn; `on_error` marks the attempt failed instead of apologising at once,
  and the apology comes only after the last attempt. The worker processes a failed update again
  through `telegram_replay`, the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import Application

from bot.deps import Deps
from bot.fairness import FairScheduler
from bot.inbox import Arrival, Attempt, Outcome, Receiver, Replay, inbox_policy, settled
from handlers.telegram.fairness import FairUpdates, tell_chat

log = logging.getLogger(__name__)

STORE_RETRY_MAX = 30.0  # seconds between attempts to store a polled update while the database is away


class TelegramInbox:
    """The stored updates this process is processing, by update id."""

    def __init__(self, deps: Deps, bot_id: str) -> None:
        self.deps = deps
        self.bot_id = bot_id
        self.held: dict[int, Attempt] = {}
        self.receiver = Receiver(deps.sessions, deps.clock, deps.settings)

    async def store(self, update: Update) -> bool:
        """False for an update stored before (a repeated delivery). Raises SQLAlchemyError when the
        database is unreachable."""
        key = f"telegram:{self.bot_id}:{update.update_id}"
        attempt = await self.receiver.receive(Arrival(key, "telegram", update.to_dict()))
        if attempt is not None:
            self.held[update.update_id] = attempt
        return attempt is not None

    def failed(self, update: object, error: BaseException | None) -> bool:
        """Note the failure of a stored update (it is tried again); False when it was not stored."""
        attempt = self.held.get(update.update_id) if isinstance(update, Update) else None
        if attempt is None or error is None:
            return False
        attempt.failed(error)
        return True

    async def finish(self, update: object) -> None:
        """Record the end of a stored update's processing; after its last attempt, apologise."""
        attempt = self.held.pop(update.update_id, None) if isinstance(update, Update) else None
        if attempt is None:
            return
        policy = inbox_policy(self.deps.settings)
        outcome = await settled(attempt, sessions=self.deps.sessions, clock=self.deps.clock, policy=policy)
        if outcome is Outcome.gave_up and isinstance(update, Update):
            await self._apologise(update)

    async def _apologise(self, update: Update) -> None:
        try:
            await tell_chat("core.gave_up", update, default_language=self.deps.settings.default_language)
        except Exception:  # best effort: the failure itself is in the log already
            log.exception("could not apologise in chat %s", update.effective_chat.id if update.effective_chat else "?")


class StoringQueue(asyncio.Queue[object]):
    """The application's update queue: what enters it is stored first (see the module docstring)."""

    def __init__(self, inbox: TelegramInbox) -> None:
        super().__init__()
        self.inbox = inbox

    async def deliver(self, update: Update) -> bool:
        """For the webhook: store and queue; False for a repeat. Raises when the database is away."""
        if not await self.inbox.store(update):
            return False
        await super().put(update)
        return True

    async def put(self, item: object) -> None:
        """For the Updater, which confirms the updates it fetched once this returns."""
        if not isinstance(item, Update):  # the application's own signals
            await super().put(item)
            return
        pause = 1.0
        while True:
            try:
                new = await self.inbox.store(item)
                break
            except SQLAlchemyError:
                log.warning(
                    "the database is unreachable: update %s is kept by Telegram, stored in %g s", item.update_id, pause
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, STORE_RETRY_MAX)
        if new:
            await super().put(item)


class InboxUpdates(FairUpdates):
    """Fair turns, then the stored update's end recorded outside its person's turn (so a database
    that is away holds up nobody's next update while the end waits to be written)."""

    def __init__(self, scheduler: FairScheduler, inbox: TelegramInbox, *, language: str) -> None:
        super().__init__(scheduler, language=language)
        self.inbox = inbox

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await super().do_process_update(update, coroutine)
        except Exception as error:
            if not self.inbox.failed(update, error):
                raise
        await self.inbox.finish(update)


def telegram_replay(application: Application[Any, Any, Any, Any, Any, Any], inbox: TelegramInbox) -> Replay:
    """The worker processes a stored update again: through the same processor and handlers."""

    async def replay(attempt: Attempt) -> None:
        await application.initialize()  # idempotent; a worker without polling has not called getMe yet
        update = Update.de_json(attempt.payload, application.bot)
        inbox.held[update.update_id] = attempt
        await application.update_processor.process_update(update, application.process_update(update))

    return replay
