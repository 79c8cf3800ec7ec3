"""Every key the code uses is in all seven catalogs, with the same placeholders, and no catalog
carries keys nobody uses; messages that count have every plural form their language needs."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.config import SUPPORTED_LANGUAGES
from bot.i18n import LOCALES, load_catalog, load_plurals, read_catalog, translator

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "storage", "schedules")
# functions whose first argument is a key
KEY_TAKERS = {"t", "n", "placed", "N_", "words", "all_words", "say", "text_for", "tell_chat"}
KEY = re.compile(r"[a-z]+\.[a-z0-9_.]+")  # "core.ask_title"; a `say("/start")` elsewhere is no key


def _calls() -> list[tuple[str, str, set[str | None]]]:
    """(function name, key, keyword names) for every call whose first argument is a catalog key
    (`None` among the names stands for `**values`)."""
    calls: list[tuple[str, str, set[str | None]]] = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and node.args):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                first = node.args[0]
                literal = first.value if isinstance(first, ast.Constant) else None
                if name in KEY_TAKERS and isinstance(literal, str) and KEY.fullmatch(literal):
                    calls.append((name, literal, {keyword.arg for keyword in node.keywords}))
    return calls


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


CALLS = _calls()
USED = {key for _, key, _ in CALLS}
COUNTED = {key for name, key, _ in CALLS if name == "n"}  # asked with `tr.n(key, count)`
PLURAL_KEYS = set(load_plurals("en"))
# gettext's Plural-Forms: two forms (one, other) everywhere but Polish (one, few, many).
PLURAL_FORMS = dict.fromkeys(SUPPORTED_LANGUAGES, 2) | {"pl": 3}


def _messages(language: str) -> dict[str, str]:
    """Singular messages and the plural forms, each form under `key[i]`."""
    forms = {f"{key}[{i}]": form for key, texts in load_plurals(language).items() for i, form in enumerate(texts)}
    return {**load_catalog(language), **forms}


def test_the_code_uses_the_catalog() -> None:
    assert len(USED) > 20


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_catalog_has_every_key(language: str) -> None:
    catalog = {**load_catalog(language), **load_plurals(language)}
    missing = sorted(key for key in USED if not catalog.get(key))
    assert not missing, f"{language} catalog misses {missing}"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_catalog_placeholders_match_english(language: str) -> None:
    english = {**load_catalog("en"), **{key: forms[-1] for key, forms in load_plurals("en").items()}}
    catalog = _messages(language)
    wrong = sorted(
        name for name, text in catalog.items() if _placeholders(text) != _placeholders(english[name.split("[")[0]])
    )
    assert not wrong, f"{language} placeholders differ from English in {wrong}"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_catalog_has_no_unused_keys(language: str) -> None:
    unused = sorted((set(load_catalog(language)) | set(load_plurals(language))) - USED)
    assert not unused, f"{language} catalog has keys no code uses: {unused}"


def test_counted_messages_have_plural_forms() -> None:
    assert COUNTED, "no message is asked with tr.n"
    assert COUNTED <= PLURAL_KEYS, f"asked with n() but without plural forms: {sorted(COUNTED - PLURAL_KEYS)}"
    assert not PLURAL_KEYS & (set(load_catalog("en"))), "a key is both singular and plural"
    for key in PLURAL_KEYS:
        assert "count" in _placeholders(load_plurals("en")[key][-1]), f"{key} does not show its {{count}}"


def test_plural_messages_are_given_their_count() -> None:
    """`t` and `say` take a plural message's form from `count=`: a call without it would fail."""
    uncounted = sorted(
        f"{name}({key!r})"
        for name, key, keywords in CALLS
        if name in {"t", "say"} and key in PLURAL_KEYS and not keywords & {"count", None}
    )
    assert not uncounted, f"plural messages asked without count=: {uncounted}"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_file_declares_the_plural_forms(language: str) -> None:
    """The language's files are merged under the first file's header: they must all agree."""
    for path in sorted((LOCALES / language).glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        assert '"Plural-Forms: ' in path.read_text(encoding="utf-8"), f"{path.name} has no Plural-Forms header"
        assert catalog.num_plurals == PLURAL_FORMS[language], path
        assert catalog.plural_expr == read_catalog(language).plural_expr, path


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_plural_entries_have_every_form(language: str) -> None:
    plurals = load_plurals(language)
    assert set(plurals) == PLURAL_KEYS, f"{language}: plural entries differ from English"
    for key, forms in plurals.items():
        assert len(forms) == PLURAL_FORMS[language], f"{language} {key}: {len(forms)} forms"
        assert all(form.strip() for form in forms), f"{language} {key} has an empty form"


@pytest.mark.parametrize(
    ("language", "count", "form"),
    [
        ("en", 1, 0), ("en", 0, 1), ("en", 2, 1),
        ("fr", 0, 0), ("fr", 1, 0), ("fr", 2, 1),
        ("es", 1, 0), ("es", 7, 1),
        ("pl", 1, 0), ("pl", 2, 1), ("pl", 4, 1), ("pl", 5, 2),
        ("pl", 12, 2), ("pl", 22, 1), ("pl", 25, 2), ("pl", 0, 2),
    ],
)  # fmt: skip
def test_ngettext_picks_the_form_of_the_language(language: str, count: int, form: int) -> None:
    tr = translator(language)
    expected = load_plurals(language)["core.groups_saved"][form].format(count=count)
    assert tr.n("core.groups_saved", count) == expected
    assert tr.t("core.groups_saved", count=count) == expected  # an error carrying count= renders the same


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_placed_says_where_each_value_went(language: str) -> None:
    """The person's name in an introduction is found where each language puts it (for mentions)."""
    tr = translator(language)
    values = {"person": "Ana {x} (Braga)", "reach": "{person} ana@example.org"}
    text, starts = tr.placed("core.introduction_person", **values)
    assert text == tr.t("core.introduction_person", **values)
    assert text[starts["person"] :].startswith("Ana {x} (Braga)")
    assert text[starts["reach"] :].startswith("{person} ana@example.org")
