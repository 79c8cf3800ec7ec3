"""The tables. Enums are stored as short strings (no database enum types) so migrations stay simple
and identical on SQLite and PostgreSQL; every datetime is timezone-aware UTC."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import StrEnumType, UTCDateTime, utcnow

TITLE_MAX = 120
DESCRIPTION_MAX = 2000
ORGANISATION_MAX = 200
CONTACT_MAX = 254  # an e-mail address
ORGANISATION_KEY_MAX = 600  # a skeleton may be longer than the name (one letter can map to two)


class Role(StrEnum):
    member = "member"
    facilitator = "facilitator"
    admin = "admin"


class OrganisationKind(StrEnum):
    city = "city"
    sse_actor = "sse_actor"
    partner = "partner"
    other = "other"


class PostKind(StrEnum):
    offer = "offer"
    need = "need"


class PostStatus(StrEnum):
    open = "open"
    matched = "matched"
    closed = "closed"
    withdrawn = "withdrawn"


class PostFormat(StrEnum):
    call = "call"
    site_visit = "site_visit"
    document = "document"
    mentoring = "mentoring"
    workshop = "workshop"


class MatchStatus(StrEnum):
    suggested = "suggested"
    accepted = "accepted"  # both sides said yes, introduction pending
    declined = "declined"
    introduced = "introduced"
    met = "met"
    not_useful = "not_useful"
    withdrawn = "withdrawn"  # no longer on offer: a post withdrawn or edited away, an author paused


class Response(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"


class MeetingStatus(StrEnum):
    scheduled = "scheduled"
    cancelled = "cancelled"


class RsvpAnswer(StrEnum):
    yes = "yes"
    no = "no"
    maybe = "maybe"


class DeliveryStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    parked = "parked"  # gave up after the maximum attempts; facilitators are told
    skipped = "skipped"  # no longer useful (e.g. a reminder after its meeting began)


def _enum(enum_class: type[StrEnum]) -> Any:
    return StrEnumType(enum_class)


class Community(SQLModel, table=True):
    """A partnership: its members, posts, channels and rhythm."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    language: str = Field(default="en", max_length=8)
    timezone: str = Field(default="UTC", max_length=64)
    digest_weekday: int = Field(default=0)  # Monday
    digest_time: str = Field(default="09:00", max_length=5)
    reminder_offsets: str | None = Field(default=None, max_length=100)  # overrides REMINDER_OFFSETS
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Workspace(SQLModel, table=True):
    """A Slack workspace or Telegram group, and the community it belongs to."""

    __table_args__ = (UniqueConstraint("platform", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    community_id: int = Field(foreign_key="community.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Organisation(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("community_id", "name"),
        Index("ix_organisation_community_key", "community_id", "key", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    name: str = Field(max_length=ORGANISATION_MAX)
    key: str | None = Field(default=None, max_length=ORGANISATION_KEY_MAX)  # `bot.organisations.key`
    kind: OrganisationKind = Field(default=OrganisationKind.other, sa_type=_enum(OrganisationKind))
    city: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Member(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    organisation_pending: bool = Field(default=False)  # named an existing organisation, not yet approved
    display_name: str = Field(default="", max_length=200)
    role: Role = Field(default=Role.member, sa_type=_enum(Role))
    language: str | None = Field(default=None, max_length=8)  # chosen with /language
    timezone: str | None = Field(default=None, max_length=64)
    paused_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # came in through a door a facilitator opened (see `bot.membership`); strangers are not
    admitted: bool = Field(default=False)
    # how peers may reach them, as they chose with /contact (read through `bot.contacts.contact_of`)
    contact_kind: str | None = Field(default=None, max_length=16)
    contact_value: str | None = Field(default=None, max_length=CONTACT_MAX)
    contact_platform: str | None = Field(default=None, max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Identity(SQLModel, table=True):
    """One member's account on one platform; a member may have several."""

    __table_args__ = (UniqueConstraint("platform", "workspace", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    platform: str = Field(max_length=16)
    workspace: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    locale: str | None = Field(default=None, max_length=16)
    timezone: str | None = Field(default=None, max_length=64)
    dm_chat: str | None = Field(default=None, max_length=64)  # where a private message reaches them
    username: str | None = Field(default=None, max_length=64)  # a public handle (Telegram @username)
    reachable: bool = Field(default=True)  # False after Telegram's 403 until they start the bot
    platform_admin: bool = Field(default=False)  # what the platform last said (see `bot.roles`)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Channel(SQLModel, table=True):
    """A group channel or chat the bot posts to (digests, reminders, announcements)."""

    __table_args__ = (UniqueConstraint("platform", "workspace", "chat"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    platform: str = Field(max_length=16)
    workspace: str = Field(max_length=64)
    chat: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    is_community_channel: bool = Field(default=False)  # set by `/peer channel here`
    registered: bool = Field(default=False)  # a Telegram group a facilitator registered (a door)
    language: str | None = Field(default=None, max_length=8)
    timezone: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Post(SQLModel, table=True):
    """An offer or a need."""

    __table_args__ = (UniqueConstraint("community_id", "ref"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    ref: str = Field(max_length=64)
    kind: PostKind = Field(sa_type=_enum(PostKind), index=True)
    title: str = Field(max_length=TITLE_MAX)
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    topics: list[str] = Field(default_factory=list, sa_type=JSON)
    language: str = Field(default="en", max_length=8)
    status: PostStatus = Field(default=PostStatus.open, sa_type=_enum(PostStatus), index=True)
    format: PostFormat | None = Field(default=None, sa_type=_enum(PostFormat))
    available_until: date | None = Field(default=None)
    contact: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The sentence vector of title and description (float16 bytes, bot/matching/encoder.py), made
    # when the text is saved so matching never waits for the encoder; NULL until then.
    embedding: bytes | None = Field(default=None, sa_type=LargeBinary)
    # What the topic scan found in title and description (bot/matching/found.py), stored with the
    # lexicon and the text it was made from, so a cold index reads it instead of scanning again.
    found: bytes | None = Field(default=None, sa_type=LargeBinary)


class ConversationState(SQLModel, table=True):
    """Where one person stands in one conversation, so a restart continues at the same step."""

    __table_args__ = (UniqueConstraint("platform", "workspace", "chat", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    workspace: str = Field(max_length=64)
    chat: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    flow: str = Field(max_length=32)
    step: str = Field(max_length=32)
    draft: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ParkedDraft(SQLModel, table=True):
    """An unfinished conversation ended by another command; offered back the next time."""

    __table_args__ = (UniqueConstraint("member_id", "flow"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    flow: str = Field(max_length=32)
    step: str = Field(max_length=32)
    draft: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MatchRound(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Match(SQLModel, table=True):
    """A suggested (need, offer) pair and what became of it."""

    __table_args__ = (UniqueConstraint("need_id", "offer_id"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    round_id: int | None = Field(default=None, foreign_key="matchround.id", index=True)
    need_id: int = Field(foreign_key="post.id", index=True)
    offer_id: int = Field(foreign_key="post.id", index=True)
    score: float = Field(default=0.0)
    reasons: list[str] = Field(default_factory=list, sa_type=JSON)
    status: MatchStatus = Field(default=MatchStatus.suggested, sa_type=_enum(MatchStatus), index=True)
    need_response: Response = Field(default=Response.pending, sa_type=_enum(Response))
    offer_response: Response = Field(default=Response.pending, sa_type=_enum(Response))
    introduced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    relay_closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # see `bot.relay`
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


RELAY_TEXT_MAX = 3000


class RelayMessage(SQLModel, table=True):
    """What one side of an introduction wrote to the other through Peerlink. Kept only while the
    relay is open (see `bot.relay`), readable only by the two sides."""

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="match.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)  # who wrote it
    text: str = Field(max_length=RELAY_TEXT_MAX)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class OrganisationBlock(SQLModel, table=True):
    """ "Don't suggest this organisation again", said by a member."""

    __table_args__ = (UniqueConstraint("member_id", "blocked_organisation_id"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    blocked_organisation_id: int = Field(foreign_key="organisation.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WorkingGroup(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    name: str = Field(max_length=200)
    topic: str = Field(default="", max_length=64)
    reasons: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WorkingGroupMember(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("group_id", "organisation_id"),)
    id: int | None = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="workinggroup.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)


class Meeting(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    working_group_id: int | None = Field(default=None, foreign_key="workinggroup.id")
    organiser_id: int | None = Field(default=None, foreign_key="member.id")
    title: str = Field(max_length=TITLE_MAX)
    agenda: str = Field(default="", max_length=DESCRIPTION_MAX)
    video_link: str | None = Field(default=None, max_length=500)
    start_at: datetime = Field(sa_type=UTCDateTime, index=True)
    timezone: str = Field(default="UTC", max_length=64)  # the organiser's, for display and .ics
    duration_minutes: int = Field(default=60)
    status: MeetingStatus = Field(default=MeetingStatus.scheduled, sa_type=_enum(MeetingStatus))
    uid: str = Field(max_length=100, unique=True)  # stable .ics UID
    sequence: int = Field(default=0)  # .ics SEQUENCE, bumped on every change
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MeetingChannel(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("meeting_id", "channel_id"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    channel_id: int = Field(foreign_key="channel.id")


class Rsvp(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    answer: RsvpAnswer = Field(sa_type=_enum(RsvpAnswer))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Delivery(SQLModel, table=True):
    """The outbox: every message sent later is a row first, unique by `dedupe_key`."""

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200, unique=True)
    community_id: int | None = Field(default=None, foreign_key="community.id", index=True)
    kind: str = Field(max_length=32)  # reminder, digest, introduction, followup, nudge, notice
    platform: str = Field(max_length=16)
    workspace: str = Field(max_length=64)
    chat: str = Field(max_length=64)
    member_id: int | None = Field(default=None, foreign_key="member.id")
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    valid_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_type=_enum(DeliveryStatus), index=True)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    message_id: str | None = Field(default=None, max_length=64)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Invite(SQLModel, table=True):
    """A deep-link code that joins a community (and optionally an organisation)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    community_id: int = Field(foreign_key="community.id")
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    created_by: int | None = Field(default=None, foreign_key="member.id")
    uses: int = Field(default=0)
    max_uses: int | None = Field(default=None)  # None: as many as come before it expires
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InboxStatus(StrEnum):
    processing = "processing"  # claimed by a process until `claimed_until`
    pending = "pending"  # failed; tried again from `next_attempt_at`
    done = "done"
    failed = "failed"  # given up after the last attempt; the person was told


class InboxEvent(SQLModel, table=True):
    """An incoming platform event (a Slack event, command or interaction; a Telegram update), stored
    before it is acknowledged and processed from here (bot/inbox.py). `key` is its platform id, so a
    delivery repeated — to this process or another — is recognised and never processed twice."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    platform: str = Field(max_length=16)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # emptied once settled
    status: InboxStatus = Field(default=InboxStatus.processing, sa_type=_enum(InboxStatus), index=True)
    attempts: int = Field(default=1)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=500)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class SlackInstallation(SQLModel, table=True):
    """A Slack workspace's installation of the app (OAuth mode): its bot token and who installed it."""

    id: int | None = Field(default=None, primary_key=True)
    enterprise_id: str = Field(default="", max_length=64, index=True)
    team_id: str = Field(default="", max_length=64, index=True)
    user_id: str = Field(default="", max_length=64)
    bot_user_id: str | None = Field(default=None, max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # slack_sdk Installation fields
    installed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SlackOAuthState(SQLModel, table=True):
    """A one-time OAuth `state` value handed to Slack's consent page and consumed on the way back."""

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(max_length=100, unique=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class PartnershipCode(SQLModel, table=True):
    """A one-time code a facilitator hands to another workspace's facilitator: redeeming it moves
    that workspace's community into this one (one partnership across workspaces)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    created_by: int | None = Field(default=None, foreign_key="member.id")
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaleHome(SQLModel, table=True):
    """A member whose home screen shows something that changed (a match answered by the other side,
    a meeting moved): the adapter that draws homes redraws theirs and deletes the row."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    marked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RateBooking(SQLModel, table=True):
    """The next moment a platform rate (a chat, a bot overall) is free, shared by every worker so
    that together they keep the platforms' limits; `held_until` is a 429's Retry-After."""

    key: str = Field(primary_key=True, max_length=160)
    free_at: datetime = Field(sa_type=UTCDateTime)
    held_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEntry(SQLModel, table=True):
    """A facilitator's action (a role granted, an export, an introduction, a link, an invite, an
    erasure): who, what, when, in which partnership. `target` holds no personal data (a role, a
    match number, a count); people are referred to by member id, cleared when they are forgotten."""

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    action: str = Field(max_length=32)
    source: str = Field(default="chat", max_length=16)  # chat, cli, self
    actor_member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    subject_member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    target: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class BotProfile(SQLModel, table=True):
    """What a platform said about our own bot (Telegram's getMe username), written by whichever
    process asked, so every process (a web process that never polls) can build links."""

    platform: str = Field(primary_key=True, max_length=16)
    username: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LinkCode(SQLModel, table=True):
    """A one-time code from `/link`: typed with `/link <code>` on another platform, it joins that
    identity to this member. Deleted when used; short-lived."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class MemberLink(SQLModel, table=True):
    """An identity joined to a member by `/link`, with what it brought (its posts, its role), so
    that `/unlink` can split it off again as the member it was."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    identity_id: int = Field(foreign_key="identity.id", unique=True)
    posts: list[int] = Field(default_factory=list, sa_type=JSON)
    role: Role = Field(default=Role.member, sa_type=_enum(Role))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
