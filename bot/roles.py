"""Who may run the partnership: facilitators and admins, and platform admins by default.

`facilitates` is the rule. The dispatcher asks it about the person writing (`is_facilitator`, every
`/peer` path) and notices to facilitators ask it about everyone (`facilitators`): both read what the
platform said about a person's admin rights when they last wrote (`Identity.platform_admin`), so a
Slack workspace admin or a Telegram group admin who runs `/peer` also gets the notices.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import Session, col, select

from bot.members import Who, resolve
from bot.ports import Platform, Sender
from storage.models import Identity, Member, Role
from storage.queries import identities_of_member, identity_anywhere

FACILITATING = frozenset({Role.facilitator, Role.admin})
PLATFORMS: tuple[Platform, ...] = ("slack", "telegram", "console")


def facilitates(member: Member, identities: Iterable[Identity]) -> bool:
    """A facilitator or admin of the partnership, or an admin of a platform it lives on (Slack
    workspace admins and owners, Telegram group admins)."""
    return member.role in FACILITATING or any(identity.platform_admin for identity in identities)


def is_facilitator(session: Session, who: Who, sender: Sender) -> bool:
    """Does the person writing now facilitate? What their platform says now is noted first (a
    Telegram admin's rights are only asked for in a group, so elsewhere they count as a member)."""
    if who.identity.platform_admin != sender.is_platform_admin:
        who.identity.platform_admin = sender.is_platform_admin
        session.add(who.identity)
    return facilitates(who.member, identities_of_member(session=session, member_id=who.member_id))


def facilitators(session: Session, community_id: int) -> Sequence[Member]:
    """Everyone who facilitates the community (who hear about undeliverable messages)."""
    members = session.exec(select(Member).where(Member.community_id == community_id).order_by(col(Member.id))).all()
    identities: dict[int, list[Identity]] = {}
    admins = select(Identity).where(
        col(Identity.platform_admin).is_(True), col(Identity.member_id).in_([member.id for member in members])
    )
    for identity in session.exec(admins).all():
        identities.setdefault(identity.member_id, []).append(identity)
    return [member for member in members if facilitates(member, identities.get(member.id or 0, []))]


def parse_identity(text: str) -> tuple[Platform, str]:
    """`slack:U123` or `telegram:42` -> (platform, user id)."""
    platform, _, user_id = text.strip().partition(":")
    for known in PLATFORMS:
        if platform == known and user_id and ":" not in user_id:
            return known, user_id
    raise ValueError(f"expected platform:user-id (e.g. slack:U0123ABC or telegram:42), got {text!r}")


def grant(session: Session, *, platform: Platform, user_id: str, role: Role) -> Member:
    """Give a role, creating the member if they have not written yet: their identity waits with an
    empty workspace and is claimed by their first message (see `bot.members.resolve`)."""
    identity = identity_anywhere(session=session, platform=platform, user_id=user_id)
    if identity is None:
        member = resolve(session, Sender(platform=platform, workspace="", user_id=user_id)).member
    else:
        found = session.get(Member, identity.member_id)
        assert found is not None
        member = found
    member.role = role
    session.add(member)
    return member
