"""Who will read a planned message: its address, and the language and timezone to render it in.

A message is rendered when it is planned, for one reader: a member's private chat (their language
and zone, see `bot.members.Who`) or a channel (its own language and zone, else the community's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.deliveries import direct_address
from bot.i18n import Translator, pick_language, translator
from bot.members import Who, zone
from bot.ports import Address, Platform
from storage.models import Channel, Community, Identity, Member
from storage.queries import channel_at


@dataclass(frozen=True, slots=True)
class Reader:
    address: Address
    language: str
    zone: ZoneInfo
    member_id: int | None = None

    @property
    def tr(self) -> Translator:
        return translator(self.language)


def member_reader(session: Session, member_id: int) -> Reader | None:
    """A member's private chat on the platform they joined on, or None if they have no identity."""
    identity = session.exec(select(Identity).where(Identity.member_id == member_id).order_by(col(Identity.id))).first()
    member = session.get(Member, member_id)
    if identity is None or member is None:
        return None
    community = session.get(Community, member.community_id)
    assert community is not None
    who = Who(member=member, identity=identity, community=community)
    return Reader(address=direct_address(identity), language=who.language, zone=who.timezone, member_id=member_id)


def channel_reader(session: Session, channel: Channel) -> Reader:
    community = session.get(Community, channel.community_id)
    assert community is not None
    platform: Platform = channel.platform  # type: ignore[assignment]
    return Reader(
        address=Address(platform=platform, workspace=channel.workspace, chat=channel.chat),
        language=pick_language(channel.language, community.language),
        zone=zone(channel.timezone or community.timezone),
    )


def community_channels(session: Session, community_id: int) -> Sequence[Channel]:
    """The channels that receive the community's digests and announcements (`/peer channel here`)."""
    return session.exec(
        select(Channel)
        .where(Channel.community_id == community_id, col(Channel.is_community_channel).is_(True))
        .order_by(col(Channel.id))
    ).all()


def channel_for(session: Session, *, community_id: int, address: Address) -> Channel:
    """The Channel row of a group chat, created on first use."""
    found = channel_at(session=session, platform=address.platform, workspace=address.workspace, chat=address.chat)
    if found is None:
        found = Channel(
            community_id=community_id,
            platform=address.platform,
            workspace=address.workspace,
            chat=address.chat,
        )
        session.add(found)
        session.flush()
    return found
