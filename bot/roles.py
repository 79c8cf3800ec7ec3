"""Who may run the partnership: facilitators and admins, and platform admins by default."""

from __future__ import annotations

from sqlmodel import Session

from bot.members import Who, resolve
from bot.ports import Platform, Sender
from storage.models import Member, Role
from storage.queries import identity_anywhere

FACILITATING = frozenset({Role.facilitator, Role.admin})
PLATFORMS: tuple[Platform, ...] = ("slack", "telegram", "console")


def is_facilitator(who: Who, sender: Sender) -> bool:
    """Slack workspace admins/owners and Telegram group admins facilitate by default."""
    return who.member.role in FACILITATING or sender.is_platform_admin


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
