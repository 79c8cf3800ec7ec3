"""The taxonomy finds the right SSE policy topic in each of the seven languages."""

from __future__ import annotations

import json

import pytest

from bot.config import SUPPORTED_LANGUAGES
from bot.topics import BY_SLUG, DATA, TOPICS, detect_topics, find_topic, label

# (language, the topic that must be detected first, text)
SENTENCES = [
    ("en", "public-procurement", "How do you write social clauses into public procurement tenders?"),
    (
        "en",
        "access-to-finance",
        "We run microcredit and small grant schemes so cooperatives can access finance.",
    ),
    ("en", "food", "Our food bank and community gardens feed 3,000 families a week."),
    (
        "en",
        "vulnerable-communities",
        "We need help reaching homeless people and refugees who distrust institutions.",
    ),
    (
        "es",
        "public-procurement",
        "Buscamos experiencias de compra pública con cláusulas sociales y contratos reservados.",
    ),
    (
        "es",
        "awareness-communication",
        "Ofrecemos nuestra estrategia de comunicación y campañas de sensibilización.",
    ),
    ("es", "impact-measurement", "Queremos aprender a medir el impacto social con indicadores comunes."),
    ("pt", "digitalisation", "Apoiamos a digitalização de empreendimentos solidários com acesso à internet."),
    (
        "pt",
        "data-statistics",
        "Precisamos de dados e estatísticas sobre a economia solidária: um mapeamento completo.",
    ),
    ("pt", "markets-fairs", "A feira de economia solidária reúne feirantes toda segunda-feira."),
    (
        "fr",
        "co-creation",
        "Nous partageons notre expérience de co-construction et de gouvernance partagée avec les acteurs.",
    ),
    (
        "fr",
        "access-to-finance",
        "Comment financer les coopératives ? Prêts solidaires, fonds de garantie et subventions.",
    ),
    ("fr", "housing", "Le logement abordable et l'habitat participatif pour les locataires."),
    (
        "it",
        "co-creation",
        "Cerchiamo pratiche di co-progettazione e amministrazione condivisa dei beni comuni.",
    ),
    (
        "it",
        "capacity-building",
        "Offriamo percorsi di formazione e rafforzamento delle competenze per le cooperative.",
    ),
    (
        "it",
        "work-integration",
        "Inserimento lavorativo di persone svantaggiate nelle cooperative sociali di tipo B.",
    ),
    (
        "nl",
        "impact-measurement",
        "Wij willen maatschappelijke impact meetbaar en verhandelbaar maken met social return.",
    ),
    (
        "nl",
        "work-integration",
        "Hoe helpen sociale ondernemers mensen met afstand tot de arbeidsmarkt aan werkgelegenheid?",
    ),
    ("nl", "public-spaces", "Leegstaande gebouwen en panden worden buurthuis voor sociale ondernemers."),
    (
        "pl",
        "public-procurement",
        "Szukamy doświadczeń z zamówieniami publicznymi i klauzulami społecznymi w przetargach.",
    ),
    (
        "pl",
        "capacity-building",
        "Oferujemy szkolenia i doradztwo dla organizacji pozarządowych: budowanie potencjału.",
    ),
    (
        "pl",
        "partnerships-trust",
        "Jak budować zaufanie i długofalowe partnerstwa między miastem a organizacjami?",
    ),
    ("en", "legal-frameworks", "A new law recognising the social economy and its legal forms."),
    (
        "es",
        "energy-climate",
        "Comunidades energéticas y energía solar en barrios: ¿cómo las apoyan los ayuntamientos?",
    ),
    (
        "pt",
        "gender-equality",
        "Mulheres empreendedoras na economia solidária: igualdade de gênero no acesso ao crédito.",
    ),
    (
        "fr",
        "enterprise-creation",
        "Comment accompagner la création de coopératives par des porteurs de projet ?",
    ),
    ("it", "care", "Servizi di assistenza domiciliare per anziani gestiti da cooperative sociali."),
    ("nl", "markets-fairs", "Een jaarlijkse markt voor sociale ondernemers op het stadsplein."),
    (
        "pl",
        "incubation-scaling",
        "Jak skalować i powielać udane przedsięwzięcia społeczne w innych dzielnicach?",
    ),
]

NEUTRAL = [
    ("en", "Thanks, see you at the meeting on Thursday afternoon."),
    ("es", "Gracias, nos vemos en la reunión del jueves por la tarde."),
    ("pt", "Obrigado, nos vemos na reunião de quinta-feira à tarde."),
    ("fr", "Merci, à jeudi pour la réunion de l'après-midi."),
    ("it", "Grazie, ci vediamo giovedì pomeriggio per la riunione."),
    ("nl", "Bedankt, tot donderdagmiddag bij de vergadering."),
    ("pl", "Dziękuję, do zobaczenia w czwartek po południu na spotkaniu."),
]


def test_the_taxonomy_is_curated_and_complete() -> None:
    assert len(TOPICS) >= 20
    assert len(BY_SLUG) == len(TOPICS)
    for topic in TOPICS:
        assert topic.slug == topic.slug.lower()
        assert " " not in topic.slug
        assert set(topic.labels) == set(SUPPORTED_LANGUAGES), topic.slug
        assert all(len(topic.keywords[code]) >= 3 for code in SUPPORTED_LANGUAGES), topic.slug


def test_every_language_has_two_sentences() -> None:
    languages = [language for language, _, _ in SENTENCES]
    assert min(languages.count(code) for code in SUPPORTED_LANGUAGES) >= 2


@pytest.mark.parametrize(("language", "slug", "text"), SENTENCES)
def test_detects_the_main_topic(language: str, slug: str, text: str) -> None:
    assert detect_topics(text, language)[0] == slug


@pytest.mark.parametrize(("language", "text"), NEUTRAL)
def test_no_topic_in_neutral_text(language: str, text: str) -> None:
    assert detect_topics(text, language) == []


def test_accents_and_case_do_not_matter() -> None:
    assert detect_topics("LICITACION y CLAUSULAS SOCIALES", "es") == ["public-procurement"]
    assert detect_topics("zamowienia publiczne", "pl") == ["public-procurement"]


def test_whole_word_keywords_do_not_match_inside_longer_words() -> None:
    assert "legal-frameworks" not in detect_topics("Leitura e leite para todos", "pt")
    assert "legal-frameworks" in detect_topics("A nova lei da economia solidária", "pt")


def test_limit_and_order() -> None:
    text = "Housing, housing and housing; also food and a bit of digital."
    assert detect_topics(text, "en", limit=2) == ["housing", "food"]


@pytest.mark.parametrize(
    ("name", "language", "slug"),
    [
        ("Compra pública", "en", "public-procurement"),
        ("zamowienia publiczne", "fr", "public-procurement"),
        ("Économie circulaire", "pl", "circular-economy"),
        ("Wonen", "es", "housing"),
        ("access-to-finance", "it", "access-to-finance"),
        ("  JUVENTUDE ", "nl", "youth"),
    ],
)
def test_find_topic_by_slug_or_any_label(name: str, language: str, slug: str) -> None:
    found = find_topic(name, language)
    assert found is not None
    assert found.slug == slug


def test_find_topic_unknown() -> None:
    assert find_topic("astrophysics") is None


def test_label_in_each_language_and_unknown_slug() -> None:
    assert label("food", "pl") == "Żywność"
    assert label("food", "xx") == "Food"
    assert label("no-such-topic", "en") == "no-such-topic"


def test_labels_find_their_own_topic() -> None:
    # Every label, typed in a post, points at its topic.
    for topic in TOPICS:
        for code, text in topic.labels.items():
            assert topic.slug in detect_topics(text, code, limit=len(TOPICS)), (topic.slug, code)


def test_data_file_is_valid_json_with_unique_slugs() -> None:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    slugs = [item["slug"] for item in raw]
    assert len(slugs) == len(set(slugs))
