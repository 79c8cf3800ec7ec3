"""Concepts (`bot.topics.CONCEPTS`): finer purposes than topics, each with the many ways it is said
in each language. A need and an offer that name one aim in other words and languages meet on it,
and the reason says so in the reader's language."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.deps import Deps
from bot.matching import render_stored
from bot.matching.evaluation import LabelledSet, load
from bot.matching.topic_scan import rank_scanned, rank_topics
from bot.topics import CONCEPTS
from storage.db import transaction
from tests.test_matching_support import World

DATA = Path(__file__).parent / "data"
LOCALES = Path(__file__).parent.parent / "bot" / "i18n" / "locales"

LIBRARY_NEED = (
    "Mieszkańcy chcą sami prowadzić zamkniętą filię biblioteki",
    "Miasto zamknęło filię na Zatorzu z powodu kosztów. Grupa sąsiadów chce ją otworzyć i utrzymać.",
)
TRANSFER_OFFER = (
    "Trasferimento di immobili comunali alle associazioni di quartiere",
    "Da dieci anni edifici inutilizzati passano a gruppi di cittadini con un patto di manutenzione.",
)
CATALOGUE_OFFER = (
    "Catalogo online delle biblioteche civiche",
    "Un portale unico per cercare e prenotare i libri di tutte le sedi della città.",
)


def _concepts(texts: list[str]) -> list[list[str]]:
    _, found = rank_scanned(texts)
    return [[CONCEPTS[number].slug for number in found.topic[found.text == at].tolist()] for at in range(len(texts))]


def test_a_concept_is_found_whatever_the_language_and_the_topics_stay_as_they_were() -> None:
    texts = [LIBRARY_NEED[0], TRANSFER_OFFER[0], CATALOGUE_OFFER[0], "A repair café run by volunteers every month"]
    assert _concepts(texts)[:3] == [["community-asset-transfer"], ["community-asset-transfer"], []]
    assert _concepts(texts)[3] == ["repair-cafe"]
    topics, _ = rank_scanned(texts)
    expected = rank_topics(texts)
    assert (topics.text.tolist(), topics.topic.tolist()) == (expected.text.tolist(), expected.topic.tolist())


def _catalog_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted(LOCALES.glob("*/*.po")):
        with path.open("rb") as file:
            for message in read_po(file):
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                texts.extend(text for text in strings if isinstance(text, str) and text)
    return texts


def test_no_concept_is_found_in_ordinary_language() -> None:
    """Every language's keywords are read in every text, so a keyword that is a common word of
    another language marks unrelated posts alike (Portuguese "op$" did so to every Dutch post).
    Ordinary sentences in the seven languages and every string of the bot's catalog name no aim."""
    ordinary = DATA.joinpath("ordinary_sentences.txt").read_text(encoding="utf-8").splitlines()
    texts = [line for line in ordinary if line.strip()] + _catalog_texts()
    assert len(texts) > 1000
    concepts = rank_scanned(texts)[1]
    found = {(texts[text], CONCEPTS[number].slug) for text, number in zip(concepts.text, concepts.topic, strict=True)}
    assert found == set()


def test_a_need_and_an_offer_that_name_one_aim_in_other_words_meet_on_it(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        world = World(session)
        world.need("n-olsztyn", "Olsztyn", *LIBRARY_NEED, language="pl")
        world.offer("o-lecce", "Lecce", *TRANSFER_OFFER, language="it")
        world.offer("o-pavia", "Pavia", *CATALOGUE_OFFER, language="it")
        world.offer("o-gent", "Gent", "Buurtbewoners leren koken", "Kooklessen in het buurthuis.", language="nl")
        suggestions = deps.matcher.suggest(session, world.posts["n-olsztyn"])
    best = suggestions[0]
    assert best.offer.ref == "o-lecce"
    assert best.shared_concepts == ("community-asset-transfer",)
    assert "Same aim: Community asset transfer" in best.reasons("en")
    assert "concept:community-asset-transfer" in best.stored_reasons()
    label = next(concept for concept in CONCEPTS if concept.slug == "community-asset-transfer").label("pl")
    assert f"Ten sam cel: {label}" in render_stored(best.stored_reasons(), "pl")


def test_an_instant_suggestion_and_a_round_score_a_pair_alike(deps: Deps) -> None:
    """`Matcher._scores_of_row` and `Workspace.scores` are two paths to one score, concepts included."""
    labelled = LabelledSet.read(Path(__file__).parent / "data" / "matching_eval_4.json")
    with transaction(deps.sessions) as session:
        posts = load(session, World(session).community_id, labelled)
        community_id = next(iter(posts.values())).community_id
        by_round = {(s.need.ref, s.offer.ref): s for s in deps.matcher.run_round(session, community_id).suggestions}
        instant = {
            (s.need.ref, s.offer.ref): s
            for need in {need for need, _ in by_round}
            for s in deps.matcher.suggest(session, posts[need], k=len(posts))
        }
    assert any(suggestion.shared_concepts for suggestion in by_round.values())
    for pair, suggestion in by_round.items():
        assert instant[pair].score == pytest.approx(suggestion.score, abs=2e-4)
        assert instant[pair].shared_concepts == suggestion.shared_concepts
