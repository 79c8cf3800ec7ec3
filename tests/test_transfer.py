"""Import and export: 35 posts in seven languages round-trip through CSV and JSON; a bad file names
its lines and fields and changes nothing; the CLI does the same against a real SQLite file."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import select

from bot.config import SUPPORTED_LANGUAGES, Settings
from bot.deps import Deps
from bot.i18n import translator
from bot.runtime.cli import cli
from bot.runtime.compose import build_deps
from bot.transfer import (
    ImportFailed,
    Problem,
    describe,
    export_rows,
    import_file,
    parse_text,
    read_records,
    write_csv,
    write_json,
)
from storage.db import transaction
from storage.models import Organisation, Post, PostStatus

DATA = Path(__file__).parent / "data"
POSTS = DATA / "posts.json"
BAD = DATA / "bad.csv"


def _import(deps: Deps, path: Path) -> tuple[int, int]:
    with transaction(deps.sessions) as session:
        result = import_file(session, path, default_language="en", encoder=deps.encoder)
    return result.created, result.updated


def _export(deps: Deps) -> list[dict[str, Any]]:
    with deps.sessions() as session:
        return export_rows(session)


def _csv_text(rows: list[dict[str, Any]]) -> str:
    stream = io.StringIO(newline="")
    write_csv(rows, stream)
    return stream.getvalue()


def _problems(path: Path) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(ImportFailed) as failed:
        read_and_check(path)
    return [(problem.line, problem.column, problem.key) for problem in failed.value.problems]


def read_and_check(path: Path) -> None:
    from bot.transfer import check_records

    check_records(read_records(path), default_language="en")


def test_imports_posts_in_seven_languages(deps: Deps) -> None:
    assert _import(deps, POSTS) == (35, 0)
    rows = _export(deps)
    assert len(rows) == 35
    assert {row["language"] for row in rows} == set(SUPPORTED_LANGUAGES)
    by_ref = {row["ref"]: row for row in rows}
    assert by_ref["t-en-3"]["topics"] == ["food", "youth"]  # labels, comma-separated
    assert by_ref["t-en-5"]["topics"] == ["vulnerable-communities", "partnerships-trust"]  # a Spanish label
    assert by_ref["t-fr-4"]["language"] == "fr"  # detected, none given
    assert by_ref["t-fr-4"]["topics"] == ["data-statistics"]  # detected, none given
    assert by_ref["t-en-5"]["available_until"] == "2026-12-31"
    with deps.sessions() as session:
        cork = session.exec(select(Organisation).where(Organisation.name == "Cork, City Council")).one()
        assert (cork.city, cork.country) == ("Cork", "Ireland")
        post = session.exec(select(Post).where(Post.ref == "t-en-1")).one()
        assert (post.city, post.contact) == ("Cork", "procurement@cork.example")


def test_round_trip_through_csv_and_json_into_a_fresh_database(deps: Deps, sqlite_url: str) -> None:
    _import(deps, POSTS)
    with deps.sessions() as session:
        post = session.exec(select(Post).where(Post.ref == "t-it-2")).one()
        post.status = PostStatus.matched
        session.add(post)
        session.commit()
    first = _export(deps)
    text = _csv_text(first)
    assert "مرحبا" in text
    assert "🙂" in text
    assert '""buy social""' in text
    other = build_deps(Settings(_env_file=None, database_url=sqlite_url), migrate=False)
    try:
        with transaction(other.sessions) as session:
            from bot.transfer import import_records

            result = import_records(session, parse_text(text, kind="csv"), default_language="pl", encoder=other.encoder)
        assert (result.created, result.updated) == (35, 0)
        second = _export(other)
        stream = io.StringIO()
        write_json(second, stream)
        with transaction(other.sessions) as session:
            again = import_records(
                session, parse_text(stream.getvalue(), kind="json"), default_language="pl", encoder=other.encoder
            )
        assert (again.created, again.updated) == (0, 35)
        assert _export(other) == first == second
    finally:
        other.engine.dispose()
    by_ref = {row["ref"]: row for row in first}
    assert by_ref["t-it-2"]["status"] == "matched"
    assert by_ref["t-en-1"]["description"].count("\n") == 1


def test_reimporting_a_ref_updates_it(deps: Deps, tmp_path: Path) -> None:
    _import(deps, POSTS)
    rows = _export(deps)
    rows[0]["title"] = "A new title, with a comma"
    changed = tmp_path / "changed.csv"
    changed.write_text(_csv_text(rows), encoding="utf-8", newline="")
    assert _import(deps, changed) == (0, 35)
    after = _export(deps)
    assert len(after) == 35
    assert after[0]["title"] == "A new title, with a comma"


def test_csv_export_defuses_formulas_and_import_restores_the_text() -> None:
    from bot.transfer import check_records

    row = {
        "ref": "f-1", "kind": "offer", "organization": "@Org", "title": '=HYPERLINK("http://x.example")',
        "description": "- first point\n- second point", "topics": ["food"], "language": "en",
        "status": "open",
        "contact": "+32 2 555 0000", "city": "", "country": "", "format": "", "available_until": "",
    }  # fmt: skip
    text = _csv_text([row])
    assert "'=HYPERLINK" in text
    assert "'@Org" in text
    [checked] = check_records(parse_text(text, kind="csv"), default_language="en")
    assert checked.title == row["title"]
    assert checked.organization == "@Org"
    assert checked.description == row["description"]
    assert checked.contact == "+32 2 555 0000"


def test_a_bad_file_names_every_problem_and_changes_nothing(deps: Deps) -> None:
    _import(deps, POSTS)
    before = _export(deps)
    assert _problems(BAD) == [
        (3, "kind", "transfer.problem_choice"),
        (4, "organization", "transfer.problem_required"),
        (5, "title", "transfer.problem_too_long"),
        (6, "topics", "transfer.problem_topic"),
        (7, "language", "transfer.problem_choice"),
        (10, "ref", "transfer.problem_duplicate_ref"),  # the quoted newline spans lines 8 and 9
        (11, "available_until", "transfer.problem_date"),
    ]
    with pytest.raises(ImportFailed):
        _import(deps, BAD)
    assert _export(deps) == before


def test_too_long_description_and_non_text_values(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    rows = [
        {"ref": "a", "kind": "need", "organization": "X", "title": "T", "description": "d" * 2001},
        {"ref": 7, "kind": "offer", "organization": ["X"], "title": "T", "description": "Fine."},
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    assert _problems(path) == [
        (1, "description", "transfer.problem_too_long"),
        (2, "organization", "transfer.problem_not_text"),
    ]


def test_json_problems_name_the_line_of_the_item(tmp_path: Path) -> None:
    path = tmp_path / "posts.json"
    good = {"ref": "a", "kind": "offer", "organization": "X", "title": "T", "description": "Fine."}
    document = {"about": {"items": "not these"}, "items": [good, {**good, "ref": "b", "kind": "gift"}]}
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    line = path.read_text(encoding="utf-8").splitlines().index("    {", 10) + 1
    assert _problems(path) == [(line, "kind", "transfer.problem_choice")]


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("broken.json", '[{"ref": "a",', (1, None, "transfer.problem_json")),
        ("shape.json", '{"posts": []}', (1, None, "transfer.problem_json_shape")),
        ("scalars.json", "[1, 2]", (1, None, "transfer.problem_not_object")),
        ("empty.csv", "ref,kind,organization,title,description\n", (None, None, "transfer.problem_no_items")),
        ("header.csv", "ref,kind,title\na,offer,T\n", (1, "organization", "transfer.problem_missing_column")),
        ("lines.jsonl", '{"ref": "a"}\nnot json\n', (2, None, "transfer.problem_json")),
    ],
)
def test_file_level_problems(tmp_path: Path, name: str, content: str, problem: tuple[Any, ...]) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert _problems(path)[0] == problem


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("ref,kind,organization,title,description\na,offer,Café,T,D\n".encode("latin-1"))
    assert _problems(path) == [(None, None, "transfer.problem_encoding")]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("sheet.txt", "Ref;Kind;Organisation;Title;Description\na;Offer;Org, Inc;Title;Desc, with comma\n"),
        (
            "sheet",
            '[{"ref": "a", "kind": "offer", "organization": "Org, Inc", "title": "Title",'
            ' "description": "Desc, with comma"}]',
        ),
        (
            "sheet.data",
            '{"ref": "a", "kind": "offer", "organization": "Org, Inc", "title": "Title",'
            ' "description": "Desc, with comma"}\n',
        ),
        (
            "sheet.tsv",
            "ref\tkind\torganization\ttitle\tdescription\na\toffer\tOrg, Inc\tTitle\tDesc, with comma\n",
        ),
    ],
)
def test_sniffs_format_delimiter_and_header_aliases(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    from bot.transfer import check_records

    [row] = check_records(read_records(path), default_language="en")
    assert (row.ref, row.kind.value, row.organization) == ("a", "offer", "Org, Inc")
    assert row.description == "Desc, with comma"


def test_problems_read_well_in_the_default_language() -> None:
    problem = Problem("transfer.problem_too_long", 5, "title", {"count": 130, "limit": 120})
    expected = "Line 5, field “title”: too long: 130 characters, at most 120."
    assert describe(problem, translator("en")) == expected
    assert describe(problem, translator("pl")).startswith("Wiersz 5, pole „title”")
    assert describe(Problem("transfer.problem_json", 2), translator("es")) == "Línea 2: no es un JSON válido."


# ---------------------------------------------------------------- the command line


@pytest.fixture
def runner(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("DEFAULT_LANGUAGE", "fr")
    return CliRunner()


def _count(sqlite_url: str) -> int:
    deps = build_deps(Settings(_env_file=None, database_url=sqlite_url), migrate=False)
    try:
        return len(_export(deps))
    finally:
        deps.engine.dispose()


def test_cli_import_export_round_trip(runner: CliRunner, sqlite_url: str, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["import", str(POSTS)], obj={})
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "35 publications importées (nouvelles : 35, mises à jour : 0)."
    exported = tmp_path / "export.csv"
    result = runner.invoke(cli, ["export", "--format", "csv", "--output", str(exported)], obj={})
    assert result.exit_code == 0, result.output
    assert f"35 publications exportées vers {exported}." in result.stdout
    result = runner.invoke(cli, ["import", str(exported)], obj={})
    assert result.stdout.strip() == "35 publications importées (nouvelles : 0, mises à jour : 35)."
    result = runner.invoke(cli, ["export", "--format", "json"], obj={})
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert len(rows) == 35
    expected = {f"t-{code}-{n}" for code in SUPPORTED_LANGUAGES for n in range(1, 6)}
    assert {row["ref"] for row in rows} == expected
    assert _count(sqlite_url) == 35


def test_cli_bad_file_exits_non_zero_and_saves_nothing(runner: CliRunner, sqlite_url: str) -> None:
    result = runner.invoke(cli, ["import", str(BAD)], obj={})
    assert result.exit_code == 1
    assert "Ligne 3, champ « kind » : « offre » n'est pas accepté" in result.stderr
    assert "Ligne 11, champ « available_until »" in result.stderr
    assert "Rien n'a été importé : le fichier contient 7 problèmes." in result.stderr
    assert result.stdout == ""
    assert _count(sqlite_url) == 0


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("We need help to reach vulnerable communities in our neighbourhoods.", "en"),
        ("Buscamos experiencias de compra pública con cláusulas sociales.", "es"),
        ("Precisamos de formação em gestão financeira para cooperativas.", "pt"),
        ("Nous cherchons des méthodes pour mesurer l'impact social.", "fr"),
        ("Cerchiamo strumenti di finanza per le cooperative sociali.", "it"),
        ("Wij zoeken voorbeelden van tijdelijk gebruik van leegstaande gebouwen.", "nl"),
        ("Szukamy doświadczeń miast, które przeszkoliły zamawiających.", "pl"),
    ],
)
def test_detect_language_among_the_seven(text: str, language: str) -> None:
    from bot.language import detect_language

    assert detect_language(text) == language


def test_detect_language_declines_when_unsure() -> None:
    from bot.language import detect_language

    assert detect_language("OK 👍", "it") == "it"
    assert detect_language("Compra pública") is None  # Spanish or Portuguese? too close to call


TRICKY_CELLS = [
    'Budget;=HYPERLINK("http://x.example")',
    "Note, @SUM(A1:A9)",
    "\u200b=1+1",
    "\ufeff+cmd|' /C calc'!A0",
    " \t-2+3",
    "'already quoted",
    "''twice",
    "plain, ordinary; text",
    "a;'b,''c",
    "",
]


@pytest.mark.parametrize("value", TRICKY_CELLS)
def test_every_part_that_could_start_a_formula_is_defused_and_restored(value: str) -> None:
    from bot.transfer.files import _FORMULA_START, _from_csv_cell, _to_csv_cell

    cell = _to_csv_cell(value)
    for part in re.split(r"[;,]", cell):
        visible = part.lstrip(" \u200b\ufeff")
        assert not visible or visible[0] not in _FORMULA_START, (value, cell)
    assert _from_csv_cell(cell) == value
