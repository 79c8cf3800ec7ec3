"""Putting one `Reply` into a chat: send it (text, keyboard, file) or edit a message in place."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telegram import InputFile, Message
from telegram.error import BadRequest
from telegram.ext import ExtBot

from bot.picture.png import png_size
from bot.ports import Attachment, Reply
from handlers.telegram.render import PARSE_MODE, html_text, keyboard, text_chunks

log = logging.getLogger(__name__)

ChatId = int | str

# https://core.telegram.org/bots/api#sendphoto: at most 10 MB, width + height at most 10000, ratio at most 20
PHOTO_TYPES = frozenset({"image/png", "image/jpeg"})
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDES = 10_000
PHOTO_MAX_RATIO = 20


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
        last = await send_file(bot, chat, reply.attachment, retries=retries)
    return last


def is_photo(attachment: Attachment) -> bool:
    """Telegram shows a photo inline only within its limits; anything else goes as a document."""
    if attachment.mime_type not in PHOTO_TYPES or len(attachment.content) > PHOTO_MAX_BYTES:
        return False
    if attachment.mime_type != "image/png":
        return True
    try:
        width, height = png_size(attachment.content)
    except ValueError:
        return False
    return width + height <= PHOTO_MAX_SIDES and max(width, height) <= PHOTO_MAX_RATIO * min(width, height)


async def send_file(bot: ExtBot[Any], chat: ChatId, attachment: Attachment, *, retries: int | None = None) -> Message:
    """An image as a photo (sendPhoto: shown in the chat), any other file as a document."""
    file = InputFile(attachment.content, filename=attachment.filename)
    if is_photo(attachment):
        return await bot.send_photo(chat_id=chat, photo=file, **_limits(retries))
    return await bot.send_document(chat_id=chat, document=file, **_limits(retries))


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
