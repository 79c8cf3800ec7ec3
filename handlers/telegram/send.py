"""Putting one `Reply` into a chat: send it (text, keyboard, file) or edit a message in place."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telegram import InputFile, Message
from telegram.error import BadRequest
from telegram.ext import ExtBot

from bot.ports import Reply
from handlers.telegram.render import PARSE_MODE, html_text, keyboard, text_chunks

log = logging.getLogger(__name__)

ChatId = int | str


@dataclass(frozen=True)
class LinkButton:
    """The "continue in private" button: where it leads and what it says, in the reader's language."""

    url: str | None
    label: str


def chat_id(chat: str) -> ChatId:
    """Telegram ids are integers (groups negative); the rate limiter tells groups by the sign."""
    return int(chat) if chat.lstrip("-").isdigit() else chat


def _limits(retries: int | None) -> dict[str, Any]:
    # Interactive replies wait out a 429 and retry (AIORateLimiter); the outbox passes None and gets
    # the RetryAfter back, to plan the retry itself.
    return {"rate_limit_args": retries} if retries else {}


async def send_reply(
    bot: ExtBot[Any], chat: ChatId, reply: Reply, link: LinkButton, *, retries: int | None = None
) -> Message | None:
    """Send the reply; returns the last message sent (the one carrying the keyboard)."""
    last: Message | None = None
    parts = list(text_chunks(reply.text))
    for index, part in enumerate(parts):
        markup = keyboard(reply, private_link=link.url, link_label=link.label) if index == len(parts) - 1 else None
        last = await bot.send_message(
            chat_id=chat, text=html_text(part), parse_mode=PARSE_MODE, reply_markup=markup, **_limits(retries)
        )
    if reply.attachment is not None:
        document = InputFile(reply.attachment.content, filename=reply.attachment.filename)
        last = await bot.send_document(chat_id=chat, document=document, **_limits(retries))
    return last


async def edit_reply(
    bot: ExtBot[Any], message: Message, reply: Reply, link: LinkButton, *, retries: int | None
) -> bool:
    """Turn `message` into `reply` (a toggled keyboard); False when it cannot be edited."""
    parts = list(text_chunks(reply.text))
    if len(parts) != 1 or reply.attachment is not None:
        return False
    try:
        await bot.edit_message_text(
            chat_id=message.chat_id,
            message_id=message.message_id,
            text=html_text(parts[0]),
            parse_mode=PARSE_MODE,
            reply_markup=keyboard(reply, private_link=link.url, link_label=link.label),
            **_limits(retries),
        )
    except BadRequest as exc:
        if "not modified" in exc.message.lower():  # the same press twice: nothing changed, all is well
            return True
        log.info("could not edit message %s: %s", message.message_id, exc.message)
        return False
    return True
