"""Who is talking: platform identities become members of a community, created on first contact."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from bot.i18n import normalise_language, pick_language
from bot.log_context import note
from bot.organisations import join, named
from bot.ports import Sender
from storage.models import Community, Identity, Member
from storage.queries import community_for_workspace, identity_of, insert_or_fetch


@dataclass
class CommunityMember:
    """A stored member and their community (both rows are saved, so their ids are set)."""

    member: Member
    community: Community

    @property
    def member_id(self) -> int:
        assert self.member.id is not None
        return self.member.id

    @property
    def community_id(self) -> int:
        assert self.community.id is not None
        return self.community.id


@dataclass
class Who(CommunityMember):
    """The member behind an incoming message, with what is needed to answer them."""

    identity: Identity

    @property
    def language(self) -> str:
        return member_language(self.member, self.identity, self.community)

    @property
    def timezone(self) -> ZoneInfo:
        return member_zone(self.member, self.identity, self.community)

    @property
    def own_language(self) -> str | None:
        return own_language(self.member, self.identity)


def member_language(member: Member, identity: Identity | None, community: Community) -> str:
    """The one rule for the language a member is written to in, in a reply or an outbox row: their
    own (see `own_language`), else their community's (DEFAULT_LANGUAGE for the default community)."""
    return own_language(member, identity) or pick_language(community.language)


def own_language(member: Member, identity: Identity | None) -> str | None:
    """What the person told us: their choice (`/language`), else their platform's locale (Slack,
    Telegram); None when only the community's language speaks for them."""
    return normalise_language(member.language) or normalise_language(identity.locale if identity else None)


def member_zone(member: Member, identity: Identity | None, community: Community) -> ZoneInfo:
    """The same rule for time: their own zone, else their platform's, else their community's
    (DEFAULT_TIMEZONE for the default community), so a time typed is read, and shown, in it."""
    return zone(member.timezone or (identity.timezone if identity else None) or community.timezone)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def resolve(session: Session, sender: Sender) -> Who:
    """Find or create the member for `sender`; refresh what the platform told us (locale, timezone).
    From here on, the work under way logs their community (`bot.log_context`)."""
    who = _resolve(session, sender)
    note(community=who.community_id)
    return who


def _resolve(session: Session, sender: Sender) -> Who:
    identity = _identity(session, sender) or _claim_waiting(session, sender)
    if identity is None:
        created = _create(session, sender)
        if isinstance(created, Who):
            return created
        identity = created  # another request created them at the same moment
    member = session.get(Member, identity.member_id)
    assert member is not None
    community = session.get(Community, member.community_id)
    assert community is not None
    _refresh(identity, member, sender)
    if member.organisation_id is None and sender.organisation:
        join(session, member, named(sender.organisation))
    return Who(member=member, identity=identity, community=community)


def _create(session: Session, sender: Sender) -> Who | Identity:
    """A new member on first contact, or the identity a concurrent first contact created."""
    community = community_for_workspace(session=session, platform=sender.platform, external_id=sender.workspace)
    assert community.id is not None
    member = Member(community_id=community.id, display_name=sender.display_name[:200])
    identity = Identity(
        member_id=0,
        platform=sender.platform,
        workspace=sender.workspace,
        user_id=sender.user_id,
        locale=sender.locale,
        timezone=sender.timezone,
        username=sender.username,
    )

    def insert() -> None:
        session.add(member)
        session.flush()
        assert member.id is not None
        identity.member_id = member.id
        session.add(identity)

    theirs = insert_or_fetch(session, insert, lambda: _identity(session, sender))
    if theirs is not None:
        return theirs
    if sender.organisation:
        join(session, member, named(sender.organisation))
    return Who(member=member, identity=identity, community=community)


def _identity(session: Session, sender: Sender) -> Identity | None:
    return identity_of(session=session, platform=sender.platform, workspace=sender.workspace, user_id=sender.user_id)


def _claim_waiting(session: Session, sender: Sender) -> Identity | None:
    """An identity granted a role before its first message waits with an empty workspace."""
    if not sender.workspace:
        return None
    waiting = identity_of(session=session, platform=sender.platform, workspace="", user_id=sender.user_id)
    if waiting is not None:
        waiting.workspace = sender.workspace
        session.add(waiting)
    return waiting


def _refresh(identity: Identity, member: Member, sender: Sender) -> None:
    if sender.locale and sender.locale != identity.locale:
        identity.locale = sender.locale
    if sender.timezone and sender.timezone != identity.timezone:
        identity.timezone = sender.timezone
    if sender.username != identity.username and sender.platform == "telegram":
        identity.username = sender.username  # changed or removed in Telegram's settings
    if sender.display_name and not member.display_name:
        member.display_name = sender.display_name[:200]
