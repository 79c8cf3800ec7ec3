"""Which of our seven languages a text is written in: a small, honest guess with py3langid.

Short or mixed texts are hard to tell apart (Spanish and Portuguese share many words), so the
guess is only returned when the model is confident enough; otherwise the caller's default wins.
"""

from __future__ import annotations

from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from bot.config import SUPPORTED_LANGUAGES

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
