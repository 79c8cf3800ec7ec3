"""The rooms and who may enter: the core never imports a platform SDK, adapters stay in their rooms."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPOSITION_ROOT = {"bot/app.py", "bot/cli.py", "bot/web.py", "bot/worker.py"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("path", _files("storage"), ids=_rel)
def test_storage_imports_nothing_of_ours(path: Path) -> None:
    assert not _imports(path) & {"bot", "handlers", "schedules"}


@pytest.mark.parametrize("path", _files("bot"), ids=_rel)
def test_kernel_is_platform_free(path: Path) -> None:
    if _rel(path) in COMPOSITION_ROOT:
        return
    assert not _imports(path) & {"slack_bolt", "slack_sdk", "telegram", "handlers", "schedules"}


@pytest.mark.parametrize("path", _files("handlers") + _files("schedules"), ids=_rel)
def test_sdks_stay_in_their_adapter(path: Path) -> None:
    rel = _rel(path)
    imports = _imports(path)
    if not rel.startswith("handlers/slack/"):
        assert not imports & {"slack_bolt", "slack_sdk"}, rel
    if not rel.startswith("handlers/telegram/"):
        assert "telegram" not in imports, rel
