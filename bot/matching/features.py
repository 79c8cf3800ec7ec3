"""What the matcher sees of a post: weighted topics and weighted terms (stems and cognate keys)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.matching.config import Weights
from bot.matching.text import Normaliser, resolve_language
from bot.matching.topic_scan import detect_parts
from bot.topics import BY_SLUG


@dataclass(frozen=True, slots=True)
class PostText:
    """The parts of a post the features are made from (a `Post` row or a draft)."""

    title: str
    description: str
    language: str | None
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Features:
    language: str
    topics: dict[str, float]  # slug -> raw weight
    terms: dict[str, float]  # stem or cognate key -> sublinear, title-weighted frequency
    surfaces: dict[str, str]  # stem or cognate key -> the first word of the post that gave it


def topic_weights(text: PostText, language: str, weights: Weights) -> dict[str, float]:
    """Chosen topics, topics found in the title, topics found in the description (most mentioned first)."""
    found: dict[str, float] = {}
    for slug in text.topics:
        if slug in BY_SLUG:
            found[slug] = found.get(slug, 0.0) + weights.chosen_topic
    in_title, in_description = detect_parts([text.title, text.description])
    for slug in in_title:
        found[slug] = found.get(slug, 0.0) + weights.title
    for rank, slug in enumerate(in_description):
        found[slug] = found.get(slug, 0.0) + 1.0 / (1.0 + 0.5 * rank)
    return found


def term_weights(
    normaliser: Normaliser, text: PostText, language: str, weights: Weights
) -> tuple[dict[str, float], dict[str, str]]:
    counts: dict[str, float] = {}
    surfaces: dict[str, str] = {}
    for part, weight in ((text.title, weights.title), (text.description, 1.0)):
        cognate = weight * weights.cognate
        for stem, key, word in normaliser.words(part, language):
            if stem in counts:
                counts[stem] += weight
            else:
                counts[stem], surfaces[stem] = weight, word
            if key is None:
                continue
            if key in counts:
                counts[key] += cognate
            else:
                counts[key], surfaces[key] = cognate, word
    # Sublinear: the fifth "cooperative" says less than the first.
    return {term: 1.0 + math.log(count) if count >= 1 else count for term, count in counts.items()}, surfaces


def featurise(normaliser: Normaliser, text: PostText, weights: Weights) -> Features:
    language = resolve_language(f"{text.title}\n{text.description}", text.language)
    terms, surfaces = term_weights(normaliser, text, language, weights)
    return Features(language, topic_weights(text, language, weights), terms, surfaces)
