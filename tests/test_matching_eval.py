"""Match quality on Peerlink's own labelled sets (seven languages): recall@3 and MRR, and no
same-organisation or forbidden pair, ever. Each set was written apart from the others (other
organisations, other phrasings) as a guard against tuning the matcher to one of them; the third is
paraphrase across languages, written before the semantic channel was tuned. Run
`pytest tests/test_matching_eval.py -s` to see the figures, the lexical-only figures beside them,
and the misses."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import pytest

from bot.config import Settings
from bot.matching import Matcher, MatchingConfig, Weights
from bot.matching.evaluation import LabelledSet, Report, evaluate, load
from bot.runtime.compose import build_deps
from storage.db import transaction
from storage.queries import default_community

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Bar:
    needs: int  # at least this many needs
    recall: float  # recall@3, of the suggestions and of one round
    mrr: float


EVAL_SETS = {
    DATA / "matching_eval.json": Bar(40, 0.93, 0.98),
    DATA / "matching_eval_2.json": Bar(20, 0.89, 0.96),
    # Paraphrase across languages: 0.27 lexical only; the semantic channel and the concepts lift it
    # to 0.76, short of 0.90 (README, Matching: what the encoder gives these pairs, and what the
    # threshold costs).
    DATA / "matching_eval_3.json": Bar(40, 0.76, 0.76),
    # Paraphrase again, written blind (by someone who saw neither the matcher nor the other sets)
    # before session 4's calibration, to check it: 0.16 lexical only, 0.77 now (0.76 in one round,
    # where an offer goes to at most 5 needs).
    DATA / "matching_eval_4.json": Bar(44, 0.76, 0.75),
    # A fifth, written blind in session 5 (nearly every gold pair in another language, cognates
    # screened out) and used only to check: 0.12 lexical only, 0.53 now; USE alone ranks it at
    # 0.49, below the held-out set (README, Matching).
    DATA / "matching_eval_5.json": Bar(42, 0.52, 0.61),
    # A sixth, written blind in session 6 (every gold pair in another language) and used only to
    # check: 0.28 lexical only, 0.73 now; USE alone ranks it as it ranked the held-out set.
    DATA / "matching_eval_6.json": Bar(44, 0.72, 0.71),
}
PARAPHRASE = [DATA / f"matching_eval_{number}.json" for number in (3, 4, 5, 6)]
# Today's matcher without the semantic channel, for the figures printed beside each set's.
LEXICAL = MatchingConfig(weights=Weights(semantic=0.0, topic=0.35, text=0.65, concept=0.0), min_score=0.04)


@pytest.fixture(scope="module", params=sorted(EVAL_SETS), ids=lambda path: path.stem)
def reports(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Report]:
    url = f"sqlite:///{tmp_path_factory.mktemp('eval') / 'eval.db'}"
    deps = build_deps(Settings(_env_file=None, database_url=url), migrate=True)  # type: ignore[call-arg]
    labelled = LabelledSet.read(request.param)
    try:
        with transaction(deps.sessions) as session:
            community = default_community(session=session)
            assert community.id is not None
            posts = load(session, community.id, labelled)
            result = evaluate(session, deps.matcher, posts, labelled)
            lexical = evaluate(session, Matcher(LEXICAL, encoder=deps.encoder), posts, labelled)
    finally:
        deps.engine.dispose()
    print(f"\n{request.param.name}: {_figures(result)}; lexical only: {_figures(lexical)}")
    for miss in result.misses():
        print(f"  {miss.ref}: gold {miss.gold}, ranked {miss.ranked[:4]}")
    return request.param, result


def _figures(report: Report) -> str:
    return f"recall@3={report.recall:.3f} round recall@3={report.round_recall:.3f} MRR={report.mrr:.3f}"


@pytest.mark.parametrize("path", sorted(EVAL_SETS), ids=lambda value: value.stem)
def test_the_set_is_big_enough_and_multilingual(path: Path) -> None:
    labelled = LabelledSet.read(path)
    needs = [item for item in labelled.items if item["kind"] == "need"]
    assert len(needs) >= EVAL_SETS[path].needs
    assert {item.get("language") for item in needs} >= {"en", "es", "pt", "fr", "it", "nl", "pl"}
    assert set(labelled.gold) == {item["ref"] for item in needs}


@pytest.mark.parametrize("path", PARAPHRASE, ids=lambda value: value.stem)
def test_a_paraphrase_set_has_its_gold_in_other_languages_and_noun_sharing_distractors(path: Path) -> None:
    labelled = LabelledSet.read(path)
    language = {item["ref"]: item.get("language") for item in labelled.items}
    elsewhere = [need for need, gold in labelled.gold.items() if language[need] not in {language[o] for o in gold}]
    assert len(elsewhere) >= len(labelled.gold) / 2
    offers = {item["ref"] for item in labelled.items if item["kind"] == "offer"}
    distractors = offers - {offer for gold in labelled.gold.values() for offer in gold}
    assert len(distractors) >= 15


def test_recall_at_3(reports: tuple[Path, Report]) -> None:
    path, report = reports
    assert report.recall >= EVAL_SETS[path].recall, [miss.ref for miss in report.misses()]
    assert report.round_recall >= EVAL_SETS[path].recall


def test_mrr(reports: tuple[Path, Report]) -> None:
    path, report = reports
    assert report.mrr >= EVAL_SETS[path].mrr


def test_no_same_organisation_or_forbidden_pair(reports: tuple[Path, Report]) -> None:
    assert reports[1].violations == []


def test_the_sets_share_no_organisation() -> None:
    for first, second in combinations((LabelledSet.read(path) for path in sorted(EVAL_SETS)), 2):
        assert {item["organization"] for item in first.items}.isdisjoint(item["organization"] for item in second.items)
