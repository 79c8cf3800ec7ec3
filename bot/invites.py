"""Invites: an unguessable code that joins whoever redeems it to a community (and an organisation).

The code travels in links (Telegram deep links `t.me/<bot>?start=<code>` allow `A-Za-z0-9_-`, at
most 64 characters), so it is URL-safe and short, and it is the only secret: anyone holding it joins.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, or_, update
from sqlmodel import Session, col, select

from bot.members import Who
from bot.organisations import join
from storage.models import Community, Invite, Organisation
from storage.types import utcnow

CODE_BYTES = 12  # 16 URL-safe characters, 96 random bits
CODE_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
DEFAULT_VALIDITY = timedelta(days=30)


MAX_DAYS = 365
MAX_USES = 10_000


class Outcome(StrEnum):
    joined = "joined"
    unknown = "unknown"
    expired = "expired"
    revoked = "revoked"
    used_up = "used_up"


@dataclass(frozen=True)
class Redeemed:
    outcome: Outcome
    community: Community | None = None
    organisation: Organisation | None = None


def create(
    session: Session,
    community_id: int,
    organisation_id: int | None,
    created_by: int | None,
    *,
    now: datetime | None = None,
    valid_for: timedelta | None = DEFAULT_VALIDITY,
    max_uses: int | None = None,
) -> Invite:
    now = now or utcnow()
    invite = Invite(
        code=secrets.token_urlsafe(CODE_BYTES),
        community_id=community_id,
        organisation_id=organisation_id,
        created_by=created_by,
        expires_at=now + valid_for if valid_for else None,
        max_uses=max_uses,
        created_at=now,
    )
    session.add(invite)
    session.flush()
    return invite


def looks_like_code(text: str) -> bool:
    """Cheap check before a lookup: `/start offer` carries a word, not an invite."""
    return bool(CODE_SHAPE.match(text))


def find(session: Session, code: str) -> Invite | None:
    if not looks_like_code(code):
        return None
    return session.exec(select(Invite).where(Invite.code == code)).first()


def redeem(session: Session, who: Who, code: str, *, now: datetime | None = None) -> Redeemed:
    """Join `who` to the invite's community and, when the invite names one, its organisation. An
    invite is a door: whoever redeems it belongs. A use is counted by one conditional update, so
    two people opening the last use of a limited invite at once cannot both get in."""
    invite = find(session, code.strip())
    if invite is None:
        return Redeemed(Outcome.unknown)
    if invite.revoked_at is not None:
        return Redeemed(Outcome.revoked)
    if invite.expires_at is not None and invite.expires_at <= (now or utcnow()):
        return Redeemed(Outcome.expired)
    counted = session.execute(
        update(Invite)
        .where(
            col(Invite.id) == invite.id,
            or_(col(Invite.max_uses).is_(None), col(Invite.uses) < col(Invite.max_uses)),
        )
        .values(uses=col(Invite.uses) + 1)
    )
    if cast(CursorResult[Any], counted).rowcount != 1:
        return Redeemed(Outcome.used_up)
    session.refresh(invite)
    member = who.member
    member.community_id = invite.community_id
    member.admitted = True
    organisation = session.get(Organisation, invite.organisation_id) if invite.organisation_id else None
    if organisation is not None:
        join(session, member, organisation.name, invited=True)
    session.add(member)
    session.flush()
    community = session.get(Community, invite.community_id)
    who.community = community or who.community
    return Redeemed(Outcome.joined, community=community, organisation=organisation)


def revoke(session: Session, *, community_id: int, code: str, now: datetime) -> Invite | None:
    """Stop an invite of this partnership from letting anyone else in; None when it has no such one."""
    invite = find(session, code.strip())
    if invite is None or invite.community_id != community_id:
        return None
    invite.revoked_at = invite.revoked_at or now
    session.add(invite)
    return invite
