"""Telegram update -> neutral `Incoming`: who wrote, where, and what (a press arrives as its value)."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.ports import Address, Incoming, Sender

log = logging.getLogger(__name__)

ADMIN_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})
FACILITATOR_COMMAND = "/peer"


async def is_group_admin(bot: ExtBot[Any], chat_id: int, user_id: int) -> bool:
    try:
        member = await bot.get_chat_member(chat_id=chat_id, user_id=user_id)
    except TelegramError as exc:
        log.info("getChatMember failed in %s: %s", chat_id, exc)
        return False
    return member.status in ADMIN_STATUSES


def _needs_admin_check(text: str) -> bool:
    # Every call naming a group counts against its 20-per-minute flood limit, so ask Telegram about
    # admin rights only for the commands where the platform role is consulted (facilitators' /peer).
    head = text.strip().split(" ", 1)[0].split("@", 1)[0].lower()
    return head == FACILITATOR_COMMAND


def addressed_elsewhere(text: str, username: str) -> bool:
    """`/offer@OtherBot` in a group is for another bot."""
    head = text.strip().split(" ", 1)[0]
    return head.startswith("/") and "@" in head and head.split("@", 1)[1].lower() != username.lower()


async def to_incoming(update: Update, bot: ExtBot[Any], text: str) -> Incoming | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    private = chat.type == ChatType.PRIVATE
    admin = not private and _needs_admin_check(text) and await is_group_admin(bot, chat.id, user.id)
    workspace = str(bot.id)
    sender = Sender(
        platform="telegram",
        workspace=workspace,
        user_id=str(user.id),
        display_name=user.full_name,
        username=user.username,
        locale=user.language_code,
        is_platform_admin=admin,
    )
    return Incoming(
        sender=sender,
        chat=Address(platform="telegram", workspace=workspace, chat=str(chat.id)),
        text=text,
        is_private=private,
    )
