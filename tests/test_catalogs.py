"""Every key the code uses is in all seven catalogs, with the same placeholders, and no catalog
carries keys nobody uses."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from bot.config import SUPPORTED_LANGUAGES
from bot.i18n import load_catalog

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "storage", "schedules")
KEY = re.compile(r"[a-z]+\.[a-z0-9_.]+")  # "core.ask_title"; a `say("/start")` elsewhere is no key


def _used_keys() -> set[str]:
    keys: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and node.args):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                first = node.args[0]
                literal = first.value if isinstance(first, ast.Constant) else None
                if name in {"t", "N_", "words", "say"} and isinstance(literal, str) and KEY.fullmatch(literal):
                    keys.add(literal)
    return keys


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


USED = _used_keys()


def test_the_code_uses_the_catalog() -> None:
    assert len(USED) > 20


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_catalog_has_every_key(language: str) -> None:
    catalog = load_catalog(language)
    missing = sorted(key for key in USED if not catalog.get(key))
    assert not missing, f"{language} catalog misses {missing}"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_catalog_placeholders_match_english(language: str) -> None:
    english = load_catalog("en")
    catalog = load_catalog(language)
    wrong = sorted(key for key in USED if key in catalog and _placeholders(catalog[key]) != _placeholders(english[key]))
    assert not wrong, f"{language} placeholders differ from English in {wrong}"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_catalog_has_no_unused_keys(language: str) -> None:
    unused = sorted(set(load_catalog(language)) - USED)
    assert not unused, f"{language} catalog has keys no code uses: {unused}"
