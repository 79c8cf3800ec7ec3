"""Reply -> Telegram message parts: HTML text (escaped once, here), inline keyboards, deep links."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.ports import Button, Reply

log = logging.getLogger(__name__)

PARSE_MODE = "HTML"
MAX_TEXT = 4000  # Telegram allows 4096 characters; stay clear of it after entities are parsed
MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback_data
SELECTED = "✓ "
ROW_CHARACTERS = 28  # buttons share a row while their labels fit a phone's width
ROW_BUTTONS = 3
PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what a t.me ?start= parameter may carry


def html_text(text: str) -> str:
    """User text is plain: `<b>` typed by someone must show as `<b>`, never as markup."""
    return html.escape(text)


def text_chunks(text: str, limit: int = MAX_TEXT) -> Iterator[str]:
    """Long replies (a long /mine) go out as several messages, cut at line ends where possible."""
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        yield text[:cut]
        text = text[cut:].lstrip("\n")
    if text:
        yield text


def deep_link(username: str, payload: str) -> str:
    return f"https://t.me/{username}?start={payload if PAYLOAD.match(payload) else 'start'}"


def link_payload(incoming_text: str) -> str:
    """The command typed in the group (`/offer@bot x` -> `offer`), so /start can say how to go on."""
    head = incoming_text.strip().split(" ", 1)[0].lstrip("/").split("@", 1)[0].lower()
    return head if head.isalpha() and len(head) <= 32 else "start"


def _button(button: Button) -> InlineKeyboardButton | None:
    if len(button.value.encode()) > MAX_CALLBACK_BYTES:
        # Telegram would refuse the whole message; drop the one button and say so in the log.
        log.warning("button value longer than %d bytes left out: %r", MAX_CALLBACK_BYTES, button.value[:80])
        return None
    label = f"{SELECTED}{button.label}" if button.selected else button.label
    return InlineKeyboardButton(text=label, callback_data=button.value)


def _rows(buttons: Sequence[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        row = rows[-1] if rows else None
        if row and len(row) < ROW_BUTTONS and sum(len(b.text) for b in row) + len(button.text) <= ROW_CHARACTERS:
            row.append(button)
        else:
            rows.append([button])
    return rows


def keyboard(reply: Reply, *, private_link: str | None = None, link_label: str = "") -> InlineKeyboardMarkup | None:
    """The reply's buttons, plus a URL button to the private chat when the reply asks for one."""
    buttons = [found for button in reply.buttons if (found := _button(button)) is not None]
    rows = _rows(buttons)
    if reply.private_link and private_link:
        rows.append([InlineKeyboardButton(text=link_label, url=private_link)])
    return InlineKeyboardMarkup(rows) if rows else None
