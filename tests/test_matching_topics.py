"""The matcher's fast topic scanner answers exactly as `bot.topics.detect_topics`, and a batch of
posts gets the same features as each post alone."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bot.matching.config import WEIGHTS
from bot.matching.features import PostText, featurise
from bot.matching.text import Normaliser
from bot.matching.topic_scan import detect_parts, detect_topics, fold
from bot.topics import TOPICS
from bot.topics import _fold as topics_fold
from bot.topics import detect_topics as reference

ITEMS = json.loads((Path(__file__).parent / "data" / "matching_eval.json").read_text(encoding="utf-8"))["items"]
TRICKY = [
    "",
    "Compra pública\ncompra pública, COMPRA PUBLICA y contratación pública responsable",
    "segunda-feira: lei municipal; leitura; leis",
    "Spółdzielnie socjalne i zamówienia publiczne — Łódź",
    "appel d\u2019offres et marchés publics; l'économie sociale et solidaire",
    " ".join(topic.labels["nl"] for topic in TOPICS),
    " ".join(keyword for topic in TOPICS for keyword in topic.keywords.get("pl", ())),
]
TEXTS = [*TRICKY, *(item["title"] for item in ITEMS), *(item["description"] for item in ITEMS)]


@pytest.mark.parametrize("text", TEXTS)
def test_same_topics_as_the_taxonomy(text: str) -> None:
    assert detect_topics(text) == reference(text, "en")
    assert fold(text) == topics_fold(text)


def test_title_and_description_in_one_scan() -> None:
    for item in ITEMS:
        parts = [item["title"], item["description"]]
        assert detect_parts(parts) == [reference(part, "en") for part in parts]


def _random_texts(count: int) -> list[str]:
    """Keywords of every language cut, cased and glued with what trips scanners: hyphens,
    apostrophes, line breaks, digits, underscores, emoji, combining marks and NULs."""
    rng = random.Random(11)
    keywords = [kw.rstrip("$") for topic in TOPICS for kws in topic.keywords.values() for kw in kws]
    keywords += [text for topic in TOPICS for text in topic.labels.values()]
    glue = [" ", "-", "'", "\u2019", ", ", "\n", "  ", "_", "x", "s", "1", "\x00", "é", "Ł", "ß", "😀", "ζ̈", "—"]
    texts = []
    for _ in range(count):
        bits = []
        for _ in range(rng.randint(0, 12)):
            word = rng.choice(keywords)
            word = word.upper() if rng.random() < 0.3 else word
            bits += [word[: rng.randint(1, len(word))] if rng.random() < 0.2 else word, rng.choice(glue)]
        texts.append("".join(bits))
    return texts


def test_a_batch_of_tricky_texts_gets_the_taxonomy_answer_for_each() -> None:
    texts = _random_texts(1500)
    assert detect_parts(texts) == [reference(text, "en") for text in texts]
    assert [fold(text) for text in texts] == [topics_fold(text) for text in texts]


def test_batch_features_equal_one_post_at_a_time() -> None:
    normaliser, texts = (
        Normaliser(),
        [PostText(item["title"], item["description"], item.get("language")) for item in ITEMS],
    )
    batch = featurise(normaliser, texts, WEIGHTS)
    for number, text in enumerate(texts):
        alone = featurise(normaliser, [text], WEIGHTS)
        start, end = batch.indptr[number], batch.indptr[number + 1]
        assert alone.languages == [batch.languages[number]]
        assert alone.topics.tolist() == batch.topics[number : number + 1].tolist()
        assert alone.terms.tolist() == batch.terms[start:end].tolist()
        assert alone.weights.tolist() == batch.weights[start:end].tolist()
