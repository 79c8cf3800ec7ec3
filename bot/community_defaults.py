"""What the settings decide for the default community: the language it speaks (DEFAULT_LANGUAGE) and
the timezone it keeps time in (DEFAULT_TIMEZONE).

The default community is created by migration 0002, which cannot see the settings, so they are
applied whenever the database is prepared (`build_deps` after migrating, `peerlink db upgrade`).
Through the community they reach everyone whose own language or zone is unknown (see
`bot.members.member_language` and `member_zone`), the console included, and every community
created later from it (`bot.partnerships`).
"""

from __future__ import annotations

from sqlmodel import Session

from bot.config import Settings
from storage.models import Community
from storage.queries import default_community


def adopt_settings(session: Session, settings: Settings) -> Community:
    community = default_community(session=session)
    if community.language != settings.default_language or community.timezone != settings.default_timezone:
        community.language = settings.default_language
        community.timezone = settings.default_timezone
        session.add(community)
    return community
