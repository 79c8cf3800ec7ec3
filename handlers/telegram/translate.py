"""Telegram update -> neutral `Incoming`: who wrote, where, and what (a press arrives as its value)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from telegram import ChatMemberRestricted, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bot.ports import Address, Incoming, Sender

log = logging.getLogger(__name__)

ADMIN_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})
MEMBER_STATUSES = frozenset({ChatMemberStatus.MEMBER, *ADMIN_STATUSES})
FACILITATOR_COMMAND = "/peer"


async def is_group_admin(bot: ExtBot[Any], chat_id: int, user_id: int) -> bool:
    try:
        member = await bot.get_chat_member(chat_id=chat_id, user_id=user_id)
    except TelegramError as exc:
        log.info("getChatMember failed in %s: %s", chat_id, exc)
        return False
    return member.status in ADMIN_STATUSES


async def member_of(bot: ExtBot[Any], chats: Sequence[str], user_id: int) -> tuple[str, ...]:
    """Which of these groups Telegram says the user is in (a restricted user still counts)."""
    found: list[str] = []
    for chat in chats:
        try:
            member = await bot.get_chat_member(chat_id=int(chat), user_id=user_id)
        except (TelegramError, ValueError) as exc:
            log.info("getChatMember failed in %s: %s", chat, exc)
            continue
        if member.status in MEMBER_STATUSES or (isinstance(member, ChatMemberRestricted) and member.is_member):
            found.append(chat)
    return tuple(found)


def _needs_admin_check(text: str) -> bool:
    # Every call naming a group counts against its 20-per-minute flood limit, so ask Telegram about
    # admin rights only for the commands where the platform role is consulted (facilitators' /peer).
    head = text.strip().split(" ", 1)[0].split("@", 1)[0].lower()
    return head == FACILITATOR_COMMAND


def addressed_elsewhere(text: str, username: str) -> bool:
    """`/offer@OtherBot` in a group is for another bot."""
    head = text.strip().split(" ", 1)[0]
    return head.startswith("/") and "@" in head and head.split("@", 1)[1].lower() != username.lower()


async def to_incoming(
    update: Update, bot: ExtBot[Any], text: str, *, groups: Sequence[str] = (), reply_to: int | None = None
) -> Incoming | None:
    """`groups`: registered groups to ask about (for someone not admitted yet, see `bot.membership`);
    `reply_to`: the message this one answers (a relayed introduction, see `bot.relay`)."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    private = chat.type == ChatType.PRIVATE
    admin = not private and _needs_admin_check(text) and await is_group_admin(bot, chat.id, user.id)
    # A message in a group proves membership of that group already: no call for it.
    asked = [group for group in groups if group != str(chat.id)]
    confirmed = await member_of(bot, asked, user.id) if asked else ()
    workspace = str(bot.id)
    sender = Sender(
        platform="telegram",
        workspace=workspace,
        user_id=str(user.id),
        display_name=user.full_name,
        username=user.username,
        locale=user.language_code,
        is_platform_admin=admin,
        member_of=confirmed,
    )
    return Incoming(
        sender=sender,
        chat=Address(platform="telegram", workspace=workspace, chat=str(chat.id)),
        text=text,
        is_private=private,
        reply_to=str(reply_to) if reply_to is not None else None,
    )
