"""The topic taxonomy of SSE policy, with labels and keywords in the seven languages.

Topics bridge languages: a Spanish need about "compra pública" and an English offer about
"public procurement" share the slug `public-procurement` whatever words they use. The curated
data lives in `topics.json`: per topic a stable slug, a label per language and keywords per
language. A keyword matches at the start of a word (accents and case ignored), so `licitaci`
finds `licitación` and `licitaciones`; a keyword ending in `$` must match a whole word
(`lei$` is the Portuguese law, not `leitura`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.config import SUPPORTED_LANGUAGES

DATA = Path(__file__).with_name("topics.json")
# Finer purposes than the topics (community asset transfer, worker buyout, repair cafés, ...), in
# the same format: keywords written as the many ways people say each purpose in each language, so
# a need and an offer that say one purpose in other words and languages still meet. Matching only
# (`bot.matching.features`): people pick and see topics, not these.
CONCEPTS_DATA = Path(__file__).with_name("concepts.json")


@dataclass(frozen=True, slots=True)
class Topic:
    slug: str
    labels: dict[str, str]  # language -> label
    keywords: dict[str, tuple[str, ...]]  # language -> lowercase keywords or stems (prefix match)

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels["en"]


def _load(path: Path) -> tuple[Topic, ...]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return tuple(
        Topic(
            slug=item["slug"],
            labels=dict(item["labels"]),
            keywords={code: tuple(words) for code, words in item["keywords"].items()},
        )
        for item in raw
    )


TOPICS: tuple[Topic, ...] = _load(DATA)
CONCEPTS: tuple[Topic, ...] = _load(CONCEPTS_DATA)

BY_SLUG = {topic.slug: topic for topic in TOPICS}
CONCEPT_BY_SLUG = {concept.slug: concept for concept in CONCEPTS}

# Letters NFKD does not decompose, and the typographic apostrophe people paste from documents.
_EXTRA_FOLDS = str.maketrans({"ł": "l", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe", "\u2019": "'", "\u2018": "'"})


def _fold(text: str) -> str:
    """Lowercase without accents, so `licitación` and `licitacion` meet."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_EXTRA_FOLDS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _alternative(keyword: str) -> str:
    if keyword.endswith("$"):
        return re.escape(_fold(keyword[:-1])) + r"\b"
    return re.escape(_fold(keyword))


@cache
def _patterns(language: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    # Every language's keywords count whatever the reader's language: people write in the
    # partnership's working language as often as in their own.
    languages = [language, *(code for code in SUPPORTED_LANGUAGES if code != language)]
    found: list[tuple[str, re.Pattern[str]]] = []
    for topic in TOPICS:
        words = {_alternative(word) for code in languages for word in topic.keywords.get(code, ())}
        words.update(re.escape(_fold(text)) for text in topic.labels.values())
        alternatives = "|".join(sorted(words, key=len, reverse=True))
        # A keyword starts a word: not inside one, nor after a hyphen (`segunda-feira` is Monday).
        found.append((topic.slug, re.compile(rf"(?<![\w-])(?:{alternatives})")))
    return tuple(found)


def detect_topics(text: str, language: str = "en", *, limit: int = 4) -> list[str]:
    """Topic slugs whose keywords occur in `text`, most mentioned first (then first mentioned)."""
    folded = _fold(text)
    ranked: list[tuple[int, int, str]] = []
    for slug, pattern in _patterns(language):
        hits = [match.start() for match in pattern.finditer(folded)]
        if hits:
            ranked.append((-len(hits), hits[0], slug))
    return [slug for _, _, slug in sorted(ranked)[:limit]]


def find_topic(name: str, language: str = "en") -> Topic | None:
    """A topic by slug or by its label in any language (accents and case ignored)."""
    wanted = _fold(name.strip())
    if wanted in BY_SLUG:
        return BY_SLUG[wanted]
    for topic in TOPICS:
        if any(_fold(label) == wanted for label in topic.labels.values()):
            return topic
    return None


def label(slug: str, language: str, *, among: dict[str, Topic] = BY_SLUG) -> str:
    """A topic's label (or a concept's, `among=CONCEPT_BY_SLUG`) in `language`; an unknown slug as it is."""
    topic = among.get(slug)
    return topic.label(language) if topic else slug
