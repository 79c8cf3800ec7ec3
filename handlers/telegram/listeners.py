"""The callbacks PTB calls: acknowledge, translate, delegate to the conversation engine, render."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import Forbidden
from telegram.ext import Application, CallbackContext, CallbackQueryHandler, ExtBot, MessageHandler, filters

from bot.i18n import pick_language, translator
from bot.membership import groups_to_ask
from bot.ports import Incoming, Reply
from handlers.application.conversation import Conversations
from handlers.telegram.inbox import TelegramInbox
from handlers.telegram.render import deep_link, link_payload
from handlers.telegram.send import LinkButton, edit_reply, send_reply
from handlers.telegram.translate import addressed_elsewhere, to_incoming
from storage.db import SessionFactory

log = logging.getLogger(__name__)

Context = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
INTERACTIVE_RETRIES = 5  # a 429 delays an answer by its retry_after, up to this many times
MAX_POPUP = 200  # Telegram's limit for answerCallbackQuery text
MAX_TOAST = 60  # longer pop-ups become an alert the presser closes, so they can be read
CONVERSATIONS = "conversations"
INBOX = "inbox"


def _conversations(context: Context) -> Conversations:
    found: Conversations = context.bot_data[CONVERSATIONS]
    return found


def _link(context: Context, incoming: Incoming) -> LinkButton:
    label = translator(pick_language(incoming.sender.locale)).t("telegram.continue_in_private")
    username = context.bot.username
    return LinkButton(url=deep_link(username, link_payload(incoming.text)) if username else None, label=label)


async def _incoming(update: Update, context: Context, text: str, *, reply_to: int | None = None) -> Incoming | None:
    """The neutral message; for a stranger writing privately, with the registered groups Telegram
    says they are in (asked only until they are admitted: one lookup, no platform call after)."""
    user = update.effective_user
    if user is None:
        return None
    sessions = _conversations(context).deps.sessions
    groups = await asyncio.to_thread(_groups, sessions, str(context.bot.id), str(user.id))
    return await to_incoming(update, context.bot, text, groups=groups, reply_to=reply_to)


def _groups(sessions: SessionFactory, workspace: str, user_id: str) -> list[str]:
    with sessions() as session:
        return groups_to_ask(session, platform="telegram", workspace=workspace, user_id=user_id)


async def _converse(context: Context, incoming: Incoming) -> list[Reply]:
    # The engine is synchronous database work: keep it off the event loop.
    return await asyncio.to_thread(_conversations(context).handle, incoming)


async def _show(
    context: Context, incoming: Incoming, replies: Sequence[Reply], pressed: Message | None, *, to: str | None = None
) -> None:
    """Send the replies in order (to the chat written in, or `to`); the first one that `replaces` a
    logical message edits the message whose keyboard was pressed, so toggling topics does not pile
    up keyboards."""
    link = _link(context, incoming)
    target = to or incoming.chat.chat
    for reply in replies:
        if pressed is not None and reply.replaces:
            edited = await edit_reply(context.bot, pressed, reply, link, retries=INTERACTIVE_RETRIES)
            pressed = None
            if edited:
                continue
        await send_reply(context.bot, target, reply, link, retries=INTERACTIVE_RETRIES)


async def on_text(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    if context.bot.username and addressed_elsewhere(message.text, context.bot.username):
        return
    answered = message.reply_to_message.message_id if message.reply_to_message else None
    incoming = await _incoming(update, context, message.text, reply_to=answered)
    if incoming is not None:
        await _show(context, incoming, await _converse(context, incoming), pressed=None)


async def on_press(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        await _on_group_press(update, context)
        return
    await query.answer()  # stop the button's spinner at once; the answer follows as messages
    incoming = await _incoming(update, context, query.data) if query.data else None
    if incoming is None:
        return
    pressed = query.message if isinstance(query.message, Message) else None
    await _show(context, incoming, await _converse(context, incoming), pressed=pressed)


async def _on_group_press(update: Update, context: Context) -> None:
    """A press in a group (an RSVP under a meeting post) is answered to the presser alone where
    possible: a short answer as the button's pop-up, a private conversation by opening the bot at
    once, anything larger as a private message; never in the group, for everyone to read. Someone
    who never opened the bot cannot be written to privately: the press opens it for them."""
    query = update.callback_query
    assert query is not None
    incoming = await _incoming(update, context, query.data) if query.data else None
    if incoming is None:
        await query.answer()
        return
    replies = await _converse(context, incoming)
    link = _link(context, incoming)
    if link.url and any(reply.private_link for reply in replies):
        await query.answer(url=link.url)
        return
    if all(_plain(reply) for reply in replies):
        text = "\n".join(reply.text for reply in replies)
        if len(text) <= MAX_POPUP:
            await query.answer(text=text, show_alert=len(text) > MAX_TOAST)
            return
    try:
        await _show(context, incoming, replies, pressed=None, to=incoming.sender.user_id)
    except Forbidden:
        await query.answer(url=link.url)
        return
    await query.answer()


def _plain(reply: Reply) -> bool:
    return not (reply.buttons or reply.attachment or reply.replaces or reply.private_link)


async def on_other(update: Update, context: Context) -> None:
    """Photos, stickers, voice notes: say politely that we read text."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    text = translator(pick_language(user.language_code)).t("telegram.text_only")
    await context.bot.send_message(chat_id=chat.id, text=text, rate_limit_args=INTERACTIVE_RETRIES)


async def on_error(update: object, context: Context) -> None:
    log.error("Telegram update failed", exc_info=context.error)
    inbox: TelegramInbox | None = context.bot_data.get(INBOX)
    if inbox is not None and inbox.failed(update, context.error):
        return  # a stored update is tried again; an apology comes only after its last attempt
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    user = update.effective_user
    text = translator(pick_language(user.language_code if user else None)).t("telegram.error")
    try:
        await context.bot.send_message(chat_id=update.effective_chat.id, text=text)
    except Exception:  # the apology is best effort; the first error is already logged
        log.exception("could not apologise in chat %s", update.effective_chat.id)


def add_listeners(
    application: Application[Any, Any, Any, Any, Any, Any],
    conversations: Conversations,
    inbox: TelegramInbox | None = None,
) -> None:
    application.bot_data[CONVERSATIONS] = conversations
    application.bot_data[INBOX] = inbox
    new = filters.UpdateType.MESSAGE  # edits of old messages are not new answers
    application.add_handler(MessageHandler(new & filters.ChatType.PRIVATE & filters.TEXT, on_text))
    # In groups only commands: conversations happen in private, and chatter is not for us.
    application.add_handler(MessageHandler(new & filters.ChatType.GROUPS & filters.COMMAND, on_text))
    application.add_handler(MessageHandler(new & filters.ChatType.PRIVATE & ~filters.TEXT, on_other))
    application.add_handler(CallbackQueryHandler(on_press))
    application.add_error_handler(on_error)
