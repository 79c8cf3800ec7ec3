"""Slack mrkdwn escaping, written once: user text never becomes markup.

Slack treats `<...>` as links and mentions (`<!channel>`, `<@U123>`), so `&`, `<` and `>` in any text
we did not write ourselves are escaped before it reaches a message, a modal or the App Home.
Slack escapes the same three characters in what people type; `unescape` turns them back.
"""

from __future__ import annotations

_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))


def escape(text: str) -> str:
    for char, entity in _ESCAPES:
        text = text.replace(char, entity)
    return text


def unescape(text: str) -> str:
    for char, entity in reversed(_ESCAPES):
        text = text.replace(entity, char)
    return text
