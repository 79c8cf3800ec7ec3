"""Why a pair was suggested, in words a person understands, in the reader's language.

Reasons are kept language-neutral (`topic:<slug>`, `concept:<slug>`, `term:<word>`) in `Match.reasons`, so the
need's author and the offer's author can each read them in their own language later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.i18n import translator
from bot.topics import CONCEPT_BY_SLUG, label

TOPIC, CONCEPT, TERM, PURPOSE = "topic:", "concept:", "term:", "purpose:similar"


def neutral(topics: Iterable[str], terms: Iterable[str], *, purpose: bool, concepts: Iterable[str] = ()) -> list[str]:
    return [
        *([PURPOSE] if purpose else []),
        *(TOPIC + slug for slug in topics),
        *(CONCEPT + slug for slug in concepts),
        *(TERM + term for term in terms),
    ]


def split(stored: Iterable[str]) -> tuple[list[str], list[str], bool, list[str]]:
    stored = list(stored)
    topics = [item.removeprefix(TOPIC) for item in stored if item.startswith(TOPIC)]
    concepts = [item.removeprefix(CONCEPT) for item in stored if item.startswith(CONCEPT)]
    terms = [item.removeprefix(TERM) for item in stored if item.startswith(TERM)]
    return topics, terms, PURPOSE in stored, concepts


def render(
    topics: Sequence[str], terms: Sequence[str], language: str, *, purpose: bool, concepts: Sequence[str] = ()
) -> list[str]:
    """One sentence for the shared topics (labels in `language`), one for the shared concepts (the
    aim both posts name, in other words), one for the key terms, and "similar purpose" when the
    meaning, more than shared words, carries the pair."""
    tr = translator(language)
    lines: list[str] = []
    if topics:
        lines.append(tr.t("matching.reason_topics", topics=", ".join(label(slug, tr.language) for slug in topics)))
    if concepts:
        named = ", ".join(label(slug, tr.language, among=CONCEPT_BY_SLUG) for slug in concepts)
        lines.append(tr.t("matching.reason_concepts", concepts=named))
    if terms:
        lines.append(tr.t("matching.reason_terms", terms=", ".join(terms)))
    if purpose:
        lines.append(tr.t("matching.reason_purpose"))
    if not lines:
        lines.append(tr.t("matching.reason_general"))
    return lines


def render_stored(stored: Iterable[str], language: str) -> list[str]:
    """The reasons of a `Match` row in `language`."""
    topics, terms, purpose, concepts = split(stored)
    return render(topics, terms, language, purpose=purpose, concepts=concepts)
