"""The shapes every privacy section shares: a section of the export and its erasure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session, SQLModel

from bot.privacy.person import Person

Row = dict[str, Any]


@dataclass
class Erasure:
    """One erasure in progress: what to do with the posts, and what was done (for the reply)."""

    session: Session
    person: Person
    keep_posts: bool
    now: datetime
    posts_deleted: int = 0
    posts_kept: int = 0
    matches_withdrawn: int = 0
    told: set[int] = field(default_factory=set)  # members told that a match is no longer available


@dataclass(frozen=True)
class Section:
    name: str
    tables: tuple[str, ...]  # the tables whose rows about the person this section covers
    export: Callable[[Session, Person], list[Row]]
    erase: Callable[[Erasure], None]


def plain(value: Any) -> Any:
    """A column value as JSON: enums by value, times in ISO 8601 with their UTC offset."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def fields(row: SQLModel, names: Sequence[str]) -> Row:
    return {name: plain(getattr(row, name)) for name in names}


def delete_all(session: Session, rows: Sequence[SQLModel]) -> None:
    for row in rows:
        session.delete(row)
    session.flush()
