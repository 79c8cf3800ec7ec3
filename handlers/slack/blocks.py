"""Block Kit for neutral replies: escaped mrkdwn sections plus buttons whose `value` is the text a
press stands for. Slack's limits are respected here so no caller has to know them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from bot.i18n import Translator
from bot.match_card import MatchCard, card_buttons, card_text
from bot.ports import Button, Reply
from handlers.slack.mrkdwn import escape, with_mentions

SECTION_MAX = 3000  # characters of text in one section block
BUTTONS_PER_BLOCK = 25  # elements in one actions block
BUTTON_LABEL_MAX = 75
BUTTON_VALUE_MAX = 2000
FALLBACK_MAX = 3000  # the notification text shown where blocks are not
PRESS = "press"  # action_id prefix of every button we render
REPLACES = "r:"  # block_id prefix naming the logical message a keyboard belongs to

Block = dict[str, Any]


def chunks(text: str, size: int) -> Iterator[str]:
    """Cut at line breaks where possible, so a long list stays readable across sections."""
    while len(text) > size:
        cut = text.rfind("\n", 0, size)
        cut = cut if cut > size // 2 else size
        yield text[:cut]
        text = text[cut:].lstrip("\n")
    if text:
        yield text


def text_blocks(text: str) -> list[Block]:
    return _sections(escape(text))


def _sections(mrkdwn: str) -> list[Block]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": part}} for part in chunks(mrkdwn, SECTION_MAX)]


def button(item: Button, action_id: str) -> Block:
    label = ("✓ " if item.selected else "") + item.label
    element: Block = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label[:BUTTON_LABEL_MAX], "emoji": True},
        "value": item.value[:BUTTON_VALUE_MAX],
    }
    if item.style != "default":
        element["style"] = item.style
    return element


def button_blocks(buttons: Sequence[Button], replaces: str | None = None) -> list[Block]:
    blocks: list[Block] = []
    for start in range(0, len(buttons), BUTTONS_PER_BLOCK):
        group = buttons[start : start + BUTTONS_PER_BLOCK]
        block: Block = {
            "type": "actions",
            "elements": [button(item, f"{PRESS}:{start + n}") for n, item in enumerate(group)],
        }
        if replaces:
            block["block_id"] = f"{REPLACES}{replaces}:{start}"
        blocks.append(block)
    return blocks


def card_blocks(card: MatchCard, tr: Translator) -> list[Block]:
    """A match card as sections and its answers as buttons."""
    return text_blocks(card_text(card, tr)) + button_blocks(card_buttons(card, tr))


def link_block(label: str, url: str) -> Block:
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "open_link",
                "url": url,
                "text": {"type": "plain_text", "text": label},
            }
        ],
    }


def message(reply: Reply, *, link: tuple[str, str] | None = None) -> dict[str, Any]:
    """`chat.postMessage` / `respond` arguments for one reply; `link` is (label, url) for
    replies that point the person to their private conversation with the bot."""
    text = with_mentions(reply.text, reply.mentions)
    blocks = [*_sections(text), *button_blocks(reply.buttons, reply.replaces)]
    if reply.private_link and link is not None:
        blocks.append(link_block(*link))
    return {"text": text[:FALLBACK_MAX], "blocks": blocks}


def replaces_of(block_id: str | None) -> str | None:
    """The logical message name a pressed keyboard was rendered for (see `button_blocks`)."""
    if not block_id or not block_id.startswith(REPLACES):
        return None
    return block_id.removeprefix(REPLACES).rsplit(":", 1)[0] or None
