"""What can be wrong with an import file: each problem names its line and column, and is shown
through the catalog (domain `transfer`) in the reader's language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import Translator


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the file; `key` is the catalog message, `values` its placeholders."""

    key: str
    line: int | None = None
    column: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


class ImportFailed(Exception):
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = list(problems)


def describe(problem: Problem, tr: Translator) -> str:
    """A problem as one line for the person fixing the file."""
    text = tr.t(problem.key, **problem.values)
    if problem.line is None:
        return text
    if problem.column is None:
        return tr.t("transfer.line_problem", line=problem.line, problem=text)
    return tr.t("transfer.line_field_problem", line=problem.line, field=problem.column, problem=text)
