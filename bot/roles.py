"""Who may run the partnership: facilitators and admins, and platform admins by default.

`facilitates` is the rule. The dispatcher asks it about the person writing (`is_facilitator`, every
`/peer` path) and notices to facilitators ask it about everyone (`facilitators`): both read what the
platform said about a person's admin rights when they last wrote (`Identity.platform_admin`), so a
Slack workspace admin or a Telegram group admin who runs `/peer` also gets the notices.

Admin rights count only where they were given by a door of the partnership (`admin_counts`): a
Slack workspace admin administers an installed workspace; a Telegram group admin counts only in a
group a facilitator registered, never in a group anyone can create and add the bot to. Roles are
granted within one partnership, by someone who facilitates it (`grant`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import Session, col, select

from bot.members import Who, resolve
from bot.membership import registered_group
from bot.ports import Address, Platform, Sender
from storage.models import Identity, Member, Role
from storage.queries import identities_of_member

FACILITATING = frozenset({Role.facilitator, Role.admin})
PLATFORMS: tuple[Platform, ...] = ("slack", "telegram", "console")


def facilitates(member: Member, identities: Iterable[Identity]) -> bool:
    """A facilitator or admin of the partnership, or an admin of a platform it lives on (Slack
    workspace admins and owners, Telegram group admins)."""
    return member.role in FACILITATING or any(identity.platform_admin for identity in identities)


def admin_counts(session: Session, who: Who, sender: Sender, chat: Address | None) -> bool:
    """Do the sender's platform admin rights make them a facilitator of `who`'s partnership here?
    A Telegram admin's only where the chat is a group registered with that partnership."""
    if not sender.is_platform_admin:
        return False
    if sender.platform != "telegram":
        return True
    if chat is None:
        return False
    group = registered_group(session, platform=chat.platform, workspace=chat.workspace, chat=chat.chat)
    return group is not None and group.community_id == who.community_id


def is_facilitator(session: Session, who: Who, sender: Sender, chat: Address | None = None) -> bool:
    """Does the person writing now facilitate? What their platform says now is noted first (a
    Telegram admin's rights are only asked for in a group, so elsewhere they count as a member)."""
    admin = admin_counts(session, who, sender, chat)
    if who.identity.platform_admin != admin:
        who.identity.platform_admin = admin
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


def member_in(session: Session, *, community_id: int, platform: Platform, user_id: str) -> Member | None:
    """The member of this partnership behind a platform user id; people of other partnerships are
    not found (nor named) from here."""
    return session.exec(
        select(Member)
        .join(Identity, col(Identity.member_id) == col(Member.id))
        .where(Identity.platform == platform, Identity.user_id == user_id, Member.community_id == community_id)
        .order_by(col(Identity.id))
    ).first()


def grant(
    session: Session, *, community_id: int, platform: Platform, user_id: str, role: Role, create: bool = False
) -> Member | None:
    """Give a role in one partnership to one of its people; None when nobody there has that id.
    With `create` (the command line, before they ever wrote) the member is made in that partnership:
    their identity waits with an empty workspace and is claimed by their first message (see
    `bot.members.resolve`). A granted role is a door: the person belongs."""
    member = member_in(session, community_id=community_id, platform=platform, user_id=user_id)
    if member is None and create:
        member = resolve(session, Sender(platform=platform, workspace="", user_id=user_id)).member
        member.community_id = community_id
    if member is None:
        return None
    member.role = role
    member.admitted = True
    session.add(member)
    return member
