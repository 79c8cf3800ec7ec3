"""`/mydata`: everything Peerlink holds about a person as one JSON file (GDPR articles 15 and 20)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.ports import Attachment
from bot.privacy.person import Person
from bot.privacy.sections import SECTIONS

FORMAT = "peerlink-personal-data/1"


def export(session: Session, person: Person, *, now: datetime) -> dict[str, Any]:
    data: dict[str, Any] = {"format": FORMAT, "generated_at": now.isoformat()}
    for section in SECTIONS:
        data[section.name] = section.export(session, person)
    return data


def export_file(session: Session, person: Person, *, now: datetime) -> Attachment:
    """Machine-readable and still readable by a person: indented UTF-8 JSON."""
    content = json.dumps(export(session, person, now=now), ensure_ascii=False, indent=2, sort_keys=False)
    return Attachment(
        filename=f"peerlink-my-data-{now:%Y%m%d-%H%M}.json",
        content=content.encode("utf-8"),
        mime_type="application/json",
    )
