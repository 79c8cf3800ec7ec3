"""The matcher's fast topic scanner answers exactly as `bot.topics.detect_topics`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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
