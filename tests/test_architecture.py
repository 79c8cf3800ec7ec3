"""The rooms and who may enter. import-linter checks the contracts in pyproject.toml (run here and in
.ci/run); this file adds what no contract states: there is no import cycle anywhere, counting imports
written inside functions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import networkx as nx

PACKAGES = ("bot", "handlers", "storage", "schedules")


def _graph() -> nx.DiGraph:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    edges = nx.DiGraph()
    for module in graph.modules:
        edges.add_node(module)
        for imported in graph.find_modules_directly_imported_by(module):
            edges.add_edge(module, imported)
    return edges


def test_no_import_cycle_anywhere() -> None:
    cycles = [sorted(group) for group in nx.strongly_connected_components(_graph()) if len(group) > 1]
    assert cycles == []


def test_imports_inside_functions_are_seen() -> None:
    # The composition root imports adapters lazily; the graph must see those edges, or a cycle
    # through a function-level import would go unnoticed.
    assert _graph().has_edge("bot.runtime.compose", "handlers.telegram.application")


def test_import_contracts_are_kept() -> None:
    # In a process of its own: import-linter reconfigures logging, which would leak into other tests.
    command = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    result = subprocess.run(
        [sys.executable, "-c", command, "--no-cache"],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
