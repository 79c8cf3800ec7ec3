"""`peerlink match` and `peerlink groups` against a SQLite file, as a facilitator runs them."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from sqlmodel import col, func, select

from bot.runtime.cli import cli
from storage.db import make_engine, session_factory, transaction
from storage.models import Match
from tests.test_matching_support import HOUSING_OFFER, PROCUREMENT_NEED, PROCUREMENT_OFFER, UNRELATED_NEED, World


@pytest.fixture
def community(sqlite_url: str) -> str:
    engine = make_engine(sqlite_url)
    with transaction(session_factory(engine)) as session:
        world = World(session)
        world.need("n-gdl", "Guadalajara", *PROCUREMENT_NEED, language="es")
        world.need("n-choir", "Lima", *UNRELATED_NEED)
        world.offer("o-dub", "Dublin", *PROCUREMENT_OFFER)
        world.offer("o-vie", "Vienna", *HOUSING_OFFER)
    engine.dispose()
    return sqlite_url


def _run(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), obj={}, env={"DATABASE_URL": url, "LOG_LEVEL": None})
    return result.exit_code, result.stdout, result.stderr


def test_match_json_is_the_list_and_the_unmatched_go_to_stderr(community: str) -> None:
    code, out, err = _run(community, "match", "--format", "json", "--top", "1")
    assert code == 0, err
    rows = json.loads(out)
    assert rows[0] == {"need": "n-gdl", "offer": "o-dub", "score": rows[0]["score"], "reasons": rows[0]["reasons"]}
    assert set(rows[0]) == {"need", "offer", "score", "reasons"}
    assert 0 < rows[0]["score"] <= 1
    assert rows[0]["reasons"][0].startswith("Shared topics: Public procurement")
    unmatched = json.loads(err)["unmatched"]  # stderr is only data too: no log line
    assert [(u["need"], u["reason"]) for u in unmatched] == [("n-choir", "below_threshold")]
    assert unmatched[0]["explanation"].startswith("No offer is close enough yet")


def test_match_csv_in_another_language(community: str) -> None:
    code, out, err = _run(community, "match", "--format", "csv", "--top", "1", "--language", "pt")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(row["need"], row["offer"]) for row in rows] == [("n-gdl", "o-dub")]
    assert rows[0]["reasons"].startswith("Temas em comum: Contratação pública")
    [unmatched] = list(csv.DictReader(io.StringIO(err[err.index("need,reason") :])))
    assert unmatched["need"] == "n-choir"
    assert unmatched["reason"] == "below_threshold"


def test_match_text_is_a_table_with_the_needs_left_out(community: str) -> None:
    code, out, _ = _run(community, "match")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] in {"1 suggestion for 1 need", "2 suggestions for 1 need"}
    assert lines[2].split()[:4] == ["Need", "Offer", "Score", "Why"]
    assert any(line.startswith("n-gdl") and "o-dub" in line for line in lines)
    assert "Needs without a suggestion: 1" in out
    assert "n-choir" in out


def test_match_record_stores_the_pairs_once(community: str) -> None:
    for _ in range(2):
        code, _, err = _run(community, "match", "--record", "--format", "json")
        assert code == 0, err
    engine = make_engine(community)
    with session_factory(engine)() as session:
        pairs = session.exec(select(Match.need_id, Match.offer_id)).all()
        total = session.exec(select(func.count(col(Match.id)))).one()
    engine.dispose()
    assert total == len(set(pairs)) >= 1


def test_groups_reject_a_bad_size(community: str) -> None:
    code, _, err = _run(community, "groups", "--size", "6-3")
    assert code == 2
    assert "--size" in err


def test_groups_text_lists_everyone(community: str) -> None:
    code, out, err = _run(community, "groups", "--size", "4-6")
    assert code == 0, err
    assert out.startswith("No group of at least 4 organisations can be formed yet.")
    assert "Not in a group: 4" in out
    assert "Lima: No pair with another organisation scores above the minimum yet." in out
    assert "Dublin: Too few organisations share its topics to make a group of 4." in out


def test_groups_json(community: str) -> None:
    code, out, err = _run(community, "groups", "--size", "2-6", "--format", "json", "--language", "es")
    assert code == 0, err
    data = json.loads(out)
    [group] = data["groups"]
    assert group["name"] == "Grupo de trabajo: Compra pública"
    assert set(group["members"]) == {"Guadalajara", "Dublin"}
    assert group["reasons"][0] == "2 miembros coinciden en Compra pública"
    # Vienna's housing offer serves no need here: it is not put in a group for a weak pair.
    left_out = [(item["organisation"], item["reason"]) for item in data["left_out"]]
    assert sorted(left_out) == [("Lima", "isolated"), ("Vienna", "isolated")]
