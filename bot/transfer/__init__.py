"""Import and export of offers and needs: the spreadsheets facilitators start from.

Files are CSV (comma, semicolon or tab separated), JSON (a list, or an object with `items`) or
JSON Lines. An import is all or nothing: every row is checked first and any problem, named by
its line and field, stops the import before anything is written. The same `ref` imported again
updates its post instead of adding a second one. Rows without topics get the detected ones, and
rows without a language get the detected language (or the default when the text is too short).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlmodel import Session

from bot.matching.ahead import encoded_ahead
from bot.matching.encoder import BATCH, Progress, pack, post_text, quiet
from bot.matching.found import keep_found
from bot.organisations import organisation_named
from bot.ports import Encoder
from bot.transfer.files import EXPORT_COLUMNS, Record, parse_text, read_records, write_csv, write_json
from bot.transfer.problems import ImportFailed, Problem, describe
from bot.transfer.rows import Row, check_records
from storage.models import Organisation, Post
from storage.queries import all_posts, default_community, posts_by_ref
from storage.types import utcnow

__all__ = [
    "EXPORT_COLUMNS", "ImportFailed", "ImportResult", "Problem", "Record", "Row", "check_records", "describe",
    "export_rows", "import_file", "import_records", "parse_text", "read_records", "save_rows", "write_csv",
    "write_json",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int

    @property
    def total(self) -> int:
        return self.created + self.updated


def import_file(
    session: Session, path: Path, *, default_language: str, encoder: Encoder, progress: Progress = quiet
) -> ImportResult:
    """Read, check and save a whole file into the default community; nothing is saved on a problem."""
    records = read_records(path)
    return import_records(session, records, default_language=default_language, encoder=encoder, progress=progress)


def import_records(
    session: Session,
    records: Sequence[Record],
    *,
    default_language: str,
    encoder: Encoder,
    progress: Progress = quiet,
) -> ImportResult:
    rows = check_records(records, default_language=default_language)
    community = default_community(session=session)
    assert community.id is not None
    return save_rows(session, rows, community_id=community.id, encoder=encoder, progress=progress)


def save_rows(
    session: Session, rows: Sequence[Row], *, community_id: int, encoder: Encoder, progress: Progress = quiet
) -> ImportResult:
    """Create or update the posts, with their sentence vectors, a batch at a time; `progress` is
    told how many rows each batch saved. The vectors are made ahead (`encoded_ahead`) while the
    batches before are written: encoding and the database work each take about half of an import."""
    created = updated = 0
    organisations: dict[str, Organisation] = {}  # by the name as written: one look-up per name
    batches = [rows[start : start + BATCH] for start in range(0, len(rows), BATCH)]
    texts = [[post_text(row.title, row.description) for row in batch] for batch in batches]
    with encoded_ahead(encoder, texts) as vectors:
        for batch, batch_vectors in zip(batches, vectors, strict=True):
            made, changed = _save_batch(session, batch, batch_vectors, community_id, organisations)
            created, updated = created + made, updated + changed
            progress(len(batch))
    return ImportResult(created=created, updated=updated)


def _save_batch(
    session: Session,
    rows: Sequence[Row],
    vectors: npt.NDArray[np.float32],
    community_id: int,
    organisations: dict[str, Organisation],
) -> tuple[int, int]:
    created = updated = 0
    existing = posts_by_ref(session=session, community_id=community_id, refs=[row.ref for row in rows])
    posts: list[Post] = []
    for row, vector in zip(rows, vectors, strict=True):
        organisation = organisations.get(row.organization)
        if organisation is None:
            organisation = organisation_named(session, community_id=community_id, name=row.organization)
            organisations[row.organization] = organisation
        organisation.city = row.city or organisation.city
        organisation.country = row.country or organisation.country
        session.add(organisation)
        assert organisation.id is not None
        post = existing.get(row.ref)
        if post is None:
            post = Post(
                community_id=community_id,
                organisation_id=organisation.id,
                ref=row.ref,
                kind=row.kind,
                title="",
            )
            created += 1
        else:
            updated += 1
        _fill(post, row, organisation.id)
        post.embedding = pack(vector)
        posts.append(post)
    keep_found(posts)
    session.add_all(posts)
    session.flush()
    return created, updated


def _fill(post: Post, row: Row, organisation_id: int) -> None:
    post.organisation_id = organisation_id
    post.kind = row.kind
    post.title = row.title
    post.description = row.description
    post.topics = list(row.topics)
    post.language = row.language
    post.contact = row.contact
    post.city = row.city
    post.country = row.country
    post.format = row.format or post.format
    post.available_until = row.available_until or post.available_until
    post.status = row.status or post.status
    post.updated_at = utcnow()


def export_rows(session: Session, *, community_id: int | None = None) -> list[dict[str, Any]]:
    """Every post of the community (the default one unless told) in the import format."""
    if community_id is None:
        community_id = default_community(session=session).id
        assert community_id is not None
    names: dict[int, str] = {}
    rows: list[dict[str, Any]] = []
    for post in all_posts(session=session, community_id=community_id):
        if post.organisation_id not in names:
            organisation = session.get(Organisation, post.organisation_id)
            names[post.organisation_id] = organisation.name if organisation else ""
        rows.append(_export_row(post, names[post.organisation_id]))
    return rows


def _export_row(post: Post, organisation: str) -> dict[str, Any]:
    return {
        "ref": post.ref, "kind": post.kind.value, "organization": organisation, "title": post.title,
        "description": post.description, "topics": list(post.topics), "language": post.language,
        "status": post.status.value, "contact": post.contact or "", "city": post.city or "",
        "country": post.country or "", "format": post.format.value if post.format else "",
        "available_until": post.available_until.isoformat() if post.available_until else "",
    }  # fmt: skip
