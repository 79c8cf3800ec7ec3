"""Which of our seven languages a text is written in.

A long text: a small, honest guess with py3langid. Short or mixed texts are hard to tell apart
(Spanish and Portuguese share many words), so the guess is only returned when the model is
confident enough; otherwise the caller's default wins. A short text ("hola", "ayuda", "cześć"): the
word lists of the seven catalogs say which language it is in (`hear`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from bot.config import SUPPORTED_LANGUAGES
from bot.i18n import word_languages

MIN_CONFIDENCE = 0.6  # below this, the guess is no better than the default
MIN_LETTERS = 12  # a few words give the model too little to go on


@cache
def _identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(SUPPORTED_LANGUAGES))
    return identifier


def detect_language(text: str, default: str | None = None) -> str | None:
    """The language code of `text` among the supported ones, or `default` when unsure."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return default
    code, confidence = _identifier().classify(text)
    if code in SUPPORTED_LANGUAGES and confidence >= MIN_CONFIDENCE:
        return str(code)
    return default


@dataclass(frozen=True, slots=True)
class Heard:
    """A short message recognised as one of a set of words: which one, and in which languages (the
    reader's own first when it is one of them: "help" is English and Dutch)."""

    name: str
    languages: tuple[str, ...]

    @property
    def language(self) -> str:
        return self.languages[0]

    @property
    def unambiguous(self) -> bool:
        return len(self.languages) == 1


GREETING_WORDS = 4  # "hola", "buenos días Peerlink": a greeting, with a few words after it at most


def hear(text: str, words: Mapping[str, str], *, prefer: str, greeting: str | None = None) -> Heard | None:
    """Which entry of `words` (name -> catalog key of comma-separated words, in all seven catalogs)
    the whole of `text` is, punctuation aside; the `greeting` entry may also just open a short text."""
    spoken = _PUNCTUATION.sub(" ", text).split()
    if not spoken:
        return None
    for name, key in words.items():
        candidates = [" ".join(spoken)]
        if name == greeting and len(spoken) <= GREETING_WORDS:
            candidates += [" ".join(spoken[:size]) for size in range(min(3, len(spoken)), 0, -1)]
        for candidate in candidates:
            languages = word_languages(key, candidate, prefer=prefer)
            if languages:
                return Heard(name=name, languages=tuple(languages))
    return None


_PUNCTUATION = re.compile(r"[^\w\s'-]+")
