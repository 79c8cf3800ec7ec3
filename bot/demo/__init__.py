"""The demo partnership: the nine partner cities of the RRR peer-learning project and a few SSE
actors, each posting offers and needs in their own language (written for Peerlink, see
`partnership.json`). Loaded through the ordinary importer, so loading twice updates, never doubles.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session

from bot.ports import Encoder
from bot.transfer import import_records, read_records
from storage.models import OrganisationKind
from storage.queries import default_community, organisation_by_name

DATA = Path(__file__).with_name("partnership.json")


def load_demo(session: Session, encoder: Encoder) -> int:
    """Import the demo posts into the default community; returns how many posts it holds."""
    result = import_records(session, read_records(DATA), default_language="en", encoder=encoder)
    _set_organisation_kinds(session)
    return result.total


def _set_organisation_kinds(session: Session) -> None:
    # The import format has no organisation kind; the demo file lists them beside its items.
    kinds: dict[str, str] = json.loads(DATA.read_text(encoding="utf-8"))["organizations"]
    community_id = default_community(session=session).id
    assert community_id is not None
    for name, kind in kinds.items():
        organisation = organisation_by_name(session=session, community_id=community_id, name=name)
        if organisation is not None:
            organisation.kind = OrganisationKind(kind)
            session.add(organisation)
    session.flush()
