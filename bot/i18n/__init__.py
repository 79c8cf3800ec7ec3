"""The message catalog: gettext `.po` files per language and per room, keyed by symbolic ids.

Files live in `locales/<lang>/<domain>.po` (domains: core, matching, slack, telegram, schedules),
read with Babel at start-up. Code asks `tr.t("post.ask_title", kind=...)`; keys used only
indirectly are marked with `N_("...")` so the catalog test can find every key in the source.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from bot.config import SUPPORTED_LANGUAGES

LOCALES = Path(__file__).parent / "locales"
FALLBACK = "en"


def N_(key: str) -> str:  # gettext's conventional name for "mark, don't translate"
    return key


@cache
def load_catalog(language: str) -> Mapping[str, str]:
    messages: dict[str, str] = {}
    for path in sorted((LOCALES / language).glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for message in catalog:
            if message.id and isinstance(message.id, str) and isinstance(message.string, str):
                messages[message.id] = message.string
    return messages


def normalise_language(code: str | None) -> str | None:
    """`pt-BR`, `pt_br`, `PT` -> `pt`; None for languages we do not ship."""
    if not code:
        return None
    base = code.replace("_", "-").split("-")[0].strip().lower()
    return base if base in SUPPORTED_LANGUAGES else None


def pick_language(*candidates: str | None, default: str = FALLBACK) -> str:
    """The first candidate we ship, in order of preference (member choice, platform locale, ...)."""
    for candidate in candidates:
        found = normalise_language(candidate)
        if found:
            return found
    return default


class Translator:
    """Messages in one language, falling back to English, then to the key itself."""

    def __init__(self, language: str) -> None:
        self.language = normalise_language(language) or FALLBACK
        self._messages = load_catalog(self.language)
        self._fallback = load_catalog(FALLBACK)

    def t(self, key: str, /, **values: Any) -> str:
        template = self._messages.get(key) or self._fallback.get(key) or key
        return template.format(**values) if values else template

    def words(self, key: str) -> set[str]:
        """A comma-separated catalog entry as lowercase words, plus the English ones, so a Spanish
        speaker may type `guardar` or `save`."""
        found: set[str] = set()
        for template in (self._messages.get(key, ""), self._fallback.get(key, "")):
            found.update(word.strip().lower() for word in template.split(",") if word.strip())
        return found


@cache
def translator(language: str) -> Translator:
    return Translator(language)
