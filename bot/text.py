"""Cleaning what people type: keep every script, emoji and right-to-left text, drop what only
confuses (control characters, bidirectional overrides that can disguise text)."""

from __future__ import annotations

import unicodedata

_BIDI_CONTROLS = {
    "\u061c",  # Arabic letter mark
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    *(chr(c) for c in range(0x202A, 0x202F)),  # embeddings and overrides
    *(chr(c) for c in range(0x2066, 0x206A)),  # isolates
}
_KEEP = {"\n", "\t"}


def clean(text: str | None) -> str:
    """NFC-normalise, drop control and bidi-override characters, trim, and fold runs of blank lines."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    kept = [ch for ch in text if ch in _KEEP or (unicodedata.category(ch) != "Cc" and ch not in _BIDI_CONTROLS)]
    lines = [line.rstrip() for line in "".join(kept).replace("\t", " ").split("\n")]
    folded: list[str] = []
    for line in lines:
        if line or (folded and folded[-1]):
            folded.append(line)
    return "\n".join(folded).strip()


def one_line(text: str) -> str:
    """A title is one line: newlines become spaces, runs of spaces fold."""
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary where one is near, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…"
