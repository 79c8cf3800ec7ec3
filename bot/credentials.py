"""Credentials stored by Peerlink (Slack installations' tokens), sealed with PEERLINK_SECRET_KEY."""

from __future__ import annotations

from sqlmodel import Session, select

from storage.models import SlackInstallation
from storage.sealed import Sealer, reseal_fields


def reseal_credentials(session: Session, sealer: Sealer) -> int:
    """Seal every stored credential again with the first key (rotation); returns how many rows."""
    rows = session.exec(select(SlackInstallation)).all()
    for row in rows:
        row.data = reseal_fields(dict(row.data), sealer)
        session.add(row)
    return len(rows)
