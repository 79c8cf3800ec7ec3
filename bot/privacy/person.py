"""The person a privacy request is about: one member, with every platform identity they have."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session

from bot.members import CommunityMember
from storage.models import Community, Identity, Member
from storage.queries import identities_of_member, identity_anywhere


@dataclass
class Person(CommunityMember):
    """The person a privacy request is about, with every platform identity they have."""

    identities: Sequence[Identity]


def person_of(session: Session, member_id: int) -> Person | None:
    member = session.get(Member, member_id)
    if member is None:
        return None
    community = session.get(Community, member.community_id)
    assert community is not None
    identities = identities_of_member(session=session, member_id=member_id)
    return Person(member=member, community=community, identities=identities)


def find_person(session: Session, *, platform: str, user_id: str) -> Person | None:
    """`slack:U0123` -> the member behind that account (a user id is unique per platform)."""
    identity = identity_anywhere(session=session, platform=platform, user_id=user_id)
    return person_of(session, identity.member_id) if identity is not None else None
