"""Match quality on Peerlink's own labelled set (seven languages): recall@3 and MRR, and no
same-organisation or forbidden pair, ever. Run `pytest tests/test_matching_eval.py -s` to see the
figures and the misses."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import build_deps
from bot.config import Settings
from bot.matching.evaluation import LabelledSet, Report, evaluate, load
from storage.db import transaction
from storage.queries import default_community

EVAL_SET = Path(__file__).parent / "data" / "matching_eval.json"
MIN_RECALL = 0.85


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    url = f"sqlite:///{tmp_path_factory.mktemp('eval') / 'eval.db'}"
    deps = build_deps(Settings(_env_file=None, database_url=url), migrate=True)  # type: ignore[call-arg]
    labelled = LabelledSet.read(EVAL_SET)
    try:
        with transaction(deps.sessions) as session:
            community = default_community(session=session)
            assert community.id is not None
            result = evaluate(session, deps.matcher, load(session, community.id, labelled), labelled)
    finally:
        deps.engine.dispose()
    print(f"\nrecall@3={result.recall:.3f} round recall@3={result.round_recall:.3f} MRR={result.mrr:.3f}")
    for miss in result.misses():
        print(f"  {miss.ref}: gold {miss.gold}, ranked {miss.ranked[:4]}")
    return result


def test_the_set_is_big_enough_and_multilingual() -> None:
    labelled = LabelledSet.read(EVAL_SET)
    needs = [item for item in labelled.items if item["kind"] == "need"]
    assert len(needs) >= 40
    assert {item.get("language") for item in needs} >= {"en", "es", "pt", "fr", "it", "nl", "pl"}
    assert set(labelled.gold) == {item["ref"] for item in needs}


def test_recall_at_3(report: Report) -> None:
    assert report.recall >= MIN_RECALL, [miss.ref for miss in report.misses()]
    assert report.round_recall >= MIN_RECALL


def test_mrr(report: Report) -> None:
    assert report.mrr >= 0.8


def test_no_same_organisation_or_forbidden_pair(report: Report) -> None:
    assert report.violations == []
