"""Slack mrkdwn escaping, written once: user text never becomes markup.

Slack treats `<...>` as links and mentions (`<!channel>`, `<@U123>`), so `&`, `<` and `>` in any text
we did not write ourselves are escaped before it reaches a message, a modal or the App Home; the
only markup we send is a mention of a person the kernel named (`with_mentions`). Slack escapes the
same three characters in what people type; `unescape` turns them back, and `received` also turns
the markup Slack adds to a message (`@channel` -> `<!channel>`) back into the words typed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.ports import Mention

_USER_ID = re.compile(r"[UW][A-Z0-9]{1,20}")  # what a Slack user id looks like (W: Enterprise Grid)
# Slack's markup in a message's text: `<!channel>`, `<!subteam^S1|@team>`, `<#C1|general>`, `<@U1>`,
# `<https://example.org|example.org>`, `<mailto:ana@example.org|ana@example.org>`.
_MARKUP = re.compile(r"<([!#@]?)([^<>|]*)(?:\|([^<>]*))?>")
_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))


def escape(text: str) -> str:
    for char, entity in _ESCAPES:
        text = text.replace(char, entity)
    return text


def unescape(text: str) -> str:
    for char, entity in reversed(_ESCAPES):
        text = text.replace(entity, char)
    return text


def received(text: str) -> str:
    """What a person typed, from the text of a Slack message: broadcasts (`<!channel>`), channels,
    links and e-mail addresses become the words typed again (`@channel`, `#general`, the address);
    user mentions stay as Slack wrote them, for the commands that read them (`/peer role`)."""

    def typed(found: re.Match[str]) -> str:
        sigil, target, label = found.groups()
        if sigil == "@":
            return found.group(0)
        if sigil == "!":
            return label or f"@{target}"
        if sigil == "#":
            return f"#{label or target}"
        return label or target

    return unescape(_MARKUP.sub(typed, text))


def with_mentions(text: str, mentions: Sequence[Mention]) -> str:
    """`text` escaped, except the spans the kernel marked as people (`Mention`), which become
    Slack mentions `<@U…>`: the only markup a message of ours carries. A span that overlaps another,
    falls outside the text or names no Slack user id stays plain text."""
    parts: list[str] = []
    done = 0
    for mention in sorted(mentions, key=lambda found: found.start):
        if mention.start < done or mention.end > len(text) or not _USER_ID.fullmatch(mention.user_id):
            continue
        parts.extend([escape(text[done : mention.start]), f"<@{mention.user_id}>"])
        done = mention.end
    parts.append(escape(text[done:]))
    return "".join(parts)
