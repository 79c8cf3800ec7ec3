"""The topic taxonomy of SSE policy, with labels and keywords in the seven languages.

Topics bridge languages: a Spanish need about "compra pública" and an English offer about
"public procurement" share the slug `public-procurement` whatever words they use.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from bot.config import SUPPORTED_LANGUAGES


@dataclass(frozen=True, slots=True)
class Topic:
    slug: str
    labels: dict[str, str]  # language -> label
    keywords: dict[str, tuple[str, ...]]  # language -> lowercase keywords or stems (prefix match)

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels["en"]


TOPICS: tuple[Topic, ...] = (
    Topic(
        slug="public-procurement",
        labels={
            "en": "Public procurement",
            "es": "Compra pública",
            "pt": "Contratação pública",
            "fr": "Commande publique",
            "it": "Appalti pubblici",
            "nl": "Overheidsopdrachten",
            "pl": "Zamówienia publiczne",
        },
        keywords={
            "en": ("procurement", "tender", "public contract", "social clause", "purchasing"),
            "es": ("compra pública", "contratación", "licitaci", "cláusula social", "contrato"),
            "pt": ("contratação pública", "licitaç", "compras públicas", "cláusula social"),
            "fr": ("commande publique", "marché public", "marchés publics", "clause sociale", "appel d'offres"),
            "it": ("appalt", "gara", "clausola sociale", "acquisti pubblici"),
            "nl": ("aanbesteding", "inkoop", "social return", "overheidsopdracht"),
            "pl": ("zamówie", "przetarg", "klauzul"),
        },
    ),
)

BY_SLUG = {topic.slug: topic for topic in TOPICS}


def _fold(text: str) -> str:
    """Lowercase without accents, so `licitación` and `licitacion` meet."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def _patterns(language: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    languages = [language, *(code for code in SUPPORTED_LANGUAGES if code != language)]
    found: list[tuple[str, re.Pattern[str]]] = []
    for topic in TOPICS:
        words = {_fold(word) for code in languages for word in topic.keywords.get(code, ())}
        words.add(_fold(topic.labels.get(language, topic.labels["en"])))
        alternatives = "|".join(sorted((re.escape(word) for word in words), key=len, reverse=True))
        found.append((topic.slug, re.compile(rf"\b(?:{alternatives})")))
    return tuple(found)


def detect_topics(text: str, language: str = "en", *, limit: int = 4) -> list[str]:
    """Topic slugs whose keywords occur in `text`, most mentioned first."""
    folded = _fold(text)
    counts = [(len(pattern.findall(folded)), slug) for slug, pattern in _patterns(language)]
    ranked = sorted((item for item in counts if item[0]), key=lambda item: -item[0])
    return [slug for _, slug in ranked[:limit]]


def find_topic(name: str, language: str = "en") -> Topic | None:
    """A topic by slug or by its label in any language (accents and case ignored)."""
    wanted = _fold(name.strip())
    if wanted in BY_SLUG:
        return BY_SLUG[wanted]
    for topic in TOPICS:
        if any(_fold(label) == wanted for label in topic.labels.values()):
            return topic
    return None


def label(slug: str, language: str) -> str:
    topic = BY_SLUG.get(slug)
    return topic.label(language) if topic else slug
