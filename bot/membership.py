"""Who belongs to a partnership: only people who came through a door a facilitator opened.

The doors: an installed Slack workspace (a signed request from it proves the person is one of its
members), the console (whoever runs the terminal owns the installation), a Telegram group a
facilitator registered (a message in it, or Telegram's `getChatMember` asked by the adapter, proves
membership: `Sender.member_of`), an invite link (`bot.invites.redeem`), and a role granted by a
facilitator or on the command line. A Telegram user who came through none of them is a stranger:
`admit` says no and the dispatcher answers with how to join, nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from bot.log_context import note
from bot.members import Who
from bot.ports import Address, Incoming, Platform
from bot.readers import channel_for
from storage.models import Channel, Community, Identity, Member, Role

# Platforms whose every sender came through a door: Slack only sends us signed requests from
# installed workspaces; the console is the installation's owner.
OPEN_BY_INSTALLATION: frozenset[Platform] = frozenset({"slack", "console"})
GROUPS_ASKED = 10  # registered groups the adapter asks about for one stranger (one call each)


def registered_group(session: Session, *, platform: str, workspace: str, chat: str) -> Channel | None:
    """The registered group at this address, if it is one."""
    return session.exec(
        select(Channel).where(
            Channel.platform == platform,
            Channel.workspace == workspace,
            Channel.chat == chat,
            col(Channel.registered).is_(True),
        )
    ).first()


def groups_to_ask(session: Session, *, platform: str, workspace: str, user_id: str) -> list[str]:
    """The registered groups whose membership the adapter should check for this person: none for
    someone already admitted (no platform call per message), else the platform's registered groups."""
    identity = session.exec(
        select(Identity).where(
            Identity.platform == platform, Identity.workspace == workspace, Identity.user_id == user_id
        )
    ).first()
    member = session.get(Member, identity.member_id) if identity else None
    if member is not None and member.admitted:
        return []
    chats = session.exec(
        select(Channel.chat)
        .where(Channel.platform == platform, Channel.workspace == workspace, col(Channel.registered).is_(True))
        .order_by(col(Channel.id))
        .limit(GROUPS_ASKED)
    ).all()
    return list(chats)


def admit(session: Session, who: Who, incoming: Incoming) -> bool:
    """Does the person writing belong? A door they came through now admits them for good (in the
    community of the registered group that proves it)."""
    member = who.member
    if member.admitted:
        return True
    group = _door_group(session, incoming)
    if incoming.sender.platform not in OPEN_BY_INSTALLATION and group is None and member.role == Role.member:
        return False
    if group is not None and group.community_id != member.community_id:
        member.community_id = group.community_id
        who.community = session.get(Community, group.community_id) or who.community
        note(community=group.community_id)
    member.admitted = True
    session.add(member)
    return True


def _door_group(session: Session, incoming: Incoming) -> Channel | None:
    """The registered group the message came from, or one the platform says the sender is in."""
    chat, sender = incoming.chat, incoming.sender
    chats: Sequence[str] = (*(() if incoming.is_private else (chat.chat,)), *sender.member_of)
    for each in chats:
        found = registered_group(session, platform=chat.platform, workspace=chat.workspace, chat=each)
        if found is not None:
            return found
    return None


def may_register_group(session: Session, incoming: Incoming) -> bool:
    """The one thing an admin of a Telegram group nobody registered may do there: redeem a
    partnership code a facilitator handed out (`/peer link <code>`), which registers the group."""
    chat = incoming.chat
    return (
        chat.platform == "telegram"
        and not incoming.is_private
        and incoming.sender.is_platform_admin
        and registered_group(session, platform=chat.platform, workspace=chat.workspace, chat=chat.chat) is None
    )


def register_group(session: Session, *, community_id: int, address: Address) -> Channel | None:
    """Register a Telegram group with a partnership: its members belong, its admins facilitate.
    None when it is registered with another partnership already (only that one may let it go)."""
    group = channel_for(session, community_id=community_id, address=address)
    if group.registered and group.community_id != community_id:
        return None
    group.community_id = community_id
    group.registered = address.platform == "telegram"  # Slack workspaces are doors by installation
    session.add(group)
    return group
