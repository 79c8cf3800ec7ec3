"""The message catalog: gettext `.po` files per language and per room, keyed by symbolic ids.

Files live in `locales/<lang>/<domain>.po` (domains: core, matching, slack, telegram, schedules, ...),
read with Babel at start-up and compiled in memory into one gettext `Translations` per language.
Code asks `tr.t("post.ask_title", kind=...)`; a message that counts something has plural forms
(`msgid_plural` repeats the key, one `msgstr[i]` per form of the language's `Plural-Forms`) and is
asked with `tr.n("core.groups_saved", 3)`, which goes through gettext's `ngettext`. Keys used only
indirectly are marked with `N_("...")` so the catalog test can find every key in the source.
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Mapping
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.config import SUPPORTED_LANGUAGES

LOCALES = Path(__file__).parent / "locales"
FALLBACK = "en"
_FORMATTER = string.Formatter()


def N_(key: str) -> str:  # gettext's conventional name for "mark, don't translate"
    return key


@cache
def read_catalog(language: str) -> Catalog:
    """All of a language's `.po` files as one Babel catalog. Its header (and so `Plural-Forms`)
    is the first file's; the catalog test checks that every file of a language agrees."""
    merged: Catalog | None = None
    for path in sorted((LOCALES / language).glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        if merged is None:
            merged = catalog
            continue
        for message in catalog:
            if message.id:
                merged[message.id] = message
    return merged or Catalog(locale=language)


@cache
def load_catalog(language: str) -> Mapping[str, str]:
    """The messages without plural forms, key -> text."""
    catalog = read_catalog(language)
    return {m.id: m.string for m in catalog if isinstance(m.id, str) and m.id and isinstance(m.string, str)}


@cache
def load_plurals(language: str) -> Mapping[str, tuple[str, ...]]:
    """The messages with plural forms, key -> one text per plural form of the language."""
    return {m.id[0]: tuple(m.string) for m in read_catalog(language) if m.pluralizable and isinstance(m.string, tuple)}


@cache
def _translations(language: str) -> Translations:
    buffer = BytesIO()
    write_mo(buffer, read_catalog(language))
    buffer.seek(0)
    return Translations(fp=buffer)


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


def fold(text: str) -> str:
    """Lowercase without accents, for matching words people type (`Cześć`, `czesc` -> `czesc`)."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("ł", "l"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()


def language_name(code: str) -> str:
    """A language's own name, capitalised as in a menu: `Español`, `Polski`."""
    name = Locale.parse(code).get_language_name(code) or code
    return name[:1].upper() + name[1:]


def language_choices() -> str:
    """`en (English), es (Español), …`: what an error about an unknown language lists."""
    return ", ".join(f"{code} ({language_name(code)})" for code in SUPPORTED_LANGUAGES)


@cache
def _names() -> Mapping[str, str]:
    """Every way to name one of our languages: its code, and its name in each of the seven (CLDR)."""
    names: dict[str, str] = {}
    for code in SUPPORTED_LANGUAGES:
        names[code] = code
        for reader in SUPPORTED_LANGUAGES:
            names[fold(Locale.parse(code).get_language_name(reader) or code)] = code
    return names


def language_from_name(text: str) -> str | None:
    """`es`, `pt-BR`, `español`, `Spanish`, `espagnol`, `hiszpański` -> the code; None otherwise."""
    return normalise_language(text) or _names().get(fold(text))


def word_languages(key: str, word: str, *, prefer: str | None = None) -> list[str]:
    """The languages whose catalog entry `key` (comma-separated words) holds `word`, the preferred
    one first: "help" is English and Dutch, and a Dutch speaker keeps Dutch."""
    folded = fold(word)
    found = [language for language in SUPPORTED_LANGUAGES if folded in _word_set(language, key)]
    return sorted(found, key=lambda language: language != prefer)


@cache
def _word_set(language: str, key: str) -> frozenset[str]:
    return frozenset(fold(word) for word in load_catalog(language).get(key, "").split(",") if word.strip())


class Translator:
    """Messages in one language, falling back to English, then to the key itself."""

    def __init__(self, language: str) -> None:
        self.language = normalise_language(language) or FALLBACK
        self._translations = _translations(self.language)
        self._fallback = _translations(FALLBACK)
        self._messages = load_catalog(self.language)
        self._english = load_catalog(FALLBACK)

    def t(self, key: str, /, **values: Any) -> str:
        """A message; one with plural forms takes its form from `count`, so an error that carries its
        values (`UserError("core.error_title_long", count=240, limit=200)`) renders like `n`."""
        if key in load_plurals(FALLBACK):
            count = values.pop("count")
            return self.n(key, count, **values)
        template = self._template(key)
        return template.format(**values) if values else template

    def placed(self, key: str, /, **values: Any) -> tuple[str, dict[str, int]]:
        """A message (without plural forms) and where in it each value starts, for the adapter to
        render part of it (a name as a mention): the order of values differs between languages."""
        parts: list[str] = []
        starts: dict[str, int] = {}
        length = 0
        for literal, field, spec, conversion in _FORMATTER.parse(self._template(key)):
            parts.append(literal)
            length += len(literal)
            if field is None:
                continue
            value = str(_FORMATTER.format_field(_FORMATTER.convert_field(values[field], conversion), spec or ""))
            starts.setdefault(field, length)
            parts.append(value)
            length += len(value)
        return "".join(parts), starts

    def _template(self, key: str) -> str:
        template = self._translations.gettext(key)
        return self._fallback.gettext(key) if template == key else template

    def n(self, key: str, count: int, /, **values: Any) -> str:
        """A message that counts: gettext's `ngettext` picks the plural form of `count` in this
        language (Polish has three), and `{count}` is filled in with the rest of `values`."""
        template = self._translations.ngettext(key, key, count)
        if template == key:
            template = self._fallback.ngettext(key, key, count)
        return template.format(count=count, **values)

    def words(self, key: str) -> set[str]:
        """A comma-separated catalog entry as lowercase words, plus the English ones, so a Spanish
        speaker may type `guardar` or `save`."""
        return _split(self._messages.get(key, ""), self._english.get(key, ""))


def _split(*templates: str) -> set[str]:
    return {word.strip().lower() for template in templates for word in template.split(",") if word.strip()}


def all_words(key: str) -> set[str]:
    """A word list in all seven languages at once (e.g. `tomorrow`, `mañana`, `jutro`), folded."""
    return {word for language in SUPPORTED_LANGUAGES for word in _word_set(language, key)}


@cache
def translator(language: str) -> Translator:
    return Translator(language)
