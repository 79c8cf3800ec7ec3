"""Query functions: keyword-only session, one question each."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, CursorResult, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from storage.models import (
    BotProfile,
    Channel,
    Community,
    ConversationState,
    Delivery,
    DeliveryStatus,
    Identity,
    InboxEvent,
    InboxStatus,
    Member,
    Organisation,
    ParkedDraft,
    Post,
    PostKind,
    PostStatus,
    SlackInstallation,
    SlackOAuthState,
    Workspace,
)

T = TypeVar("T", bound=SQLModel)
Claimable = TypeVar("Claimable", bound=SQLModel)


def insert_or_fetch(session: Session, insert: Callable[[], object], fetch: Callable[[], T | None]) -> T | None:
    """Run `insert` in a savepoint; when a unique key says another request inserted the same thing
    first (two first messages at once), return theirs from `fetch` instead. None means we inserted."""
    try:
        with session.begin_nested():
            insert()
    except IntegrityError:
        found = fetch()
        if found is None:
            raise
        return found
    return None


def default_community(*, session: Session) -> Community:
    """The oldest community: the one a fresh database starts with (migration 0002)."""
    community = session.exec(select(Community).order_by(col(Community.id))).first()
    if community is None:
        raise LookupError("no community: run `peerlink db upgrade`")
    return community


def community_for_workspace(*, session: Session, platform: str, external_id: str, name: str = "") -> Community:
    """The community a Slack workspace or Telegram group belongs to; new ones join the default."""
    workspace = _workspace(session, platform, external_id)
    if workspace is None:
        community_id = default_community(session=session).id
        assert community_id is not None
        new = Workspace(platform=platform, external_id=external_id, name=name, community_id=community_id)
        fetch = lambda: _workspace(session, platform, external_id)  # noqa: E731
        workspace = insert_or_fetch(session, lambda: session.add(new), fetch) or new
    found = session.get(Community, workspace.community_id)
    assert found is not None
    return found


def _workspace(session: Session, platform: str, external_id: str) -> Workspace | None:
    return session.exec(
        select(Workspace).where(Workspace.platform == platform, Workspace.external_id == external_id)
    ).first()


def identity_of(*, session: Session, platform: str, workspace: str, user_id: str) -> Identity | None:
    return session.exec(
        select(Identity).where(
            Identity.platform == platform, Identity.workspace == workspace, Identity.user_id == user_id
        )
    ).first()


def identity_anywhere(*, session: Session, platform: str, user_id: str) -> Identity | None:
    """An identity by platform user id alone (Slack and Telegram user ids are unique per platform)."""
    return session.exec(
        select(Identity).where(Identity.platform == platform, Identity.user_id == user_id).order_by(col(Identity.id))
    ).first()


def identities_of_member(*, session: Session, member_id: int) -> Sequence[Identity]:
    return session.exec(select(Identity).where(Identity.member_id == member_id).order_by(col(Identity.id))).all()


def organisation_by_name(*, session: Session, community_id: int, name: str) -> Organisation | None:
    return session.exec(
        select(Organisation).where(Organisation.community_id == community_id, Organisation.name == name)
    ).first()


def organisation_by_key(*, session: Session, community_id: int, key: str) -> Organisation | None:
    return session.exec(
        select(Organisation).where(Organisation.community_id == community_id, Organisation.key == key)
    ).first()


def keyless_organisations(*, session: Session, community_id: int) -> Sequence[Organisation]:
    return session.exec(
        select(Organisation)
        .where(Organisation.community_id == community_id, col(Organisation.key).is_(None))
        .order_by(col(Organisation.id))
    ).all()


def get_or_create_organisation(*, session: Session, community_id: int, name: str, key: str) -> Organisation:
    """The organisation with this key (or, for a row written without one, this exact name)."""

    def fetch() -> Organisation | None:
        return organisation_by_key(session=session, community_id=community_id, key=key) or organisation_by_name(
            session=session, community_id=community_id, name=name
        )

    found = fetch()
    if found is None:
        new = Organisation(community_id=community_id, name=name, key=key)
        found = insert_or_fetch(session, lambda: session.add(new), fetch) or new
    elif found.key is None:
        found.key = key
        session.add(found)
    return found


def post_by_ref(*, session: Session, community_id: int, ref: str) -> Post | None:
    return session.exec(select(Post).where(Post.community_id == community_id, Post.ref == ref)).first()


def posts_by_ref(*, session: Session, community_id: int, refs: Sequence[str]) -> dict[str, Post]:
    """The community's posts with these refs (at most a few hundred: one `IN`), by ref."""
    found = session.exec(select(Post).where(Post.community_id == community_id, col(Post.ref).in_(refs))).all()
    return {post.ref: post for post in found}


def new_post_ref(kind: PostKind) -> str:
    """A stable, unguessable reference for a post created in conversation (imports bring their own)."""
    return f"{kind.value}-{secrets.token_hex(4)}"


def posts_of_member(*, session: Session, member_id: int, include_withdrawn: bool = False) -> Sequence[Post]:
    query = select(Post).where(Post.member_id == member_id)
    if not include_withdrawn:
        query = query.where(Post.status != PostStatus.withdrawn)
    return session.exec(query.order_by(col(Post.id))).all()


def post_times_of_member(*, session: Session, member_id: int, since: datetime) -> Sequence[datetime]:
    """When the member created each of their posts (withdrawn ones too) after `since`, oldest first."""
    query = select(Post.created_at).where(Post.member_id == member_id, col(Post.created_at) > since)
    return session.exec(query.order_by(col(Post.created_at))).all()


def all_posts(*, session: Session, community_id: int) -> Sequence[Post]:
    return session.exec(select(Post).where(Post.community_id == community_id).order_by(col(Post.id))).all()


def conversation_state(
    *, session: Session, platform: str, workspace: str, chat: str, user_id: str
) -> ConversationState | None:
    return session.exec(
        select(ConversationState).where(
            ConversationState.platform == platform,
            ConversationState.workspace == workspace,
            ConversationState.chat == chat,
            ConversationState.user_id == user_id,
        )
    ).first()


def parked_draft(*, session: Session, member_id: int, flow: str) -> ParkedDraft | None:
    return session.exec(select(ParkedDraft).where(ParkedDraft.member_id == member_id, ParkedDraft.flow == flow)).first()


def members_of_organisation(*, session: Session, organisation_id: int) -> Sequence[Member]:
    return session.exec(select(Member).where(Member.organisation_id == organisation_id)).all()


def workspace_of(*, session: Session, platform: str, external_id: str) -> Workspace | None:
    """A Slack workspace's or Telegram group's row, if it has been seen."""
    return _workspace(session, platform, external_id)


def community_by_name(*, session: Session, name: str) -> Community | None:
    return session.exec(select(Community).where(Community.name == name)).first()


def channel_at(*, session: Session, platform: str, workspace: str, chat: str) -> Channel | None:
    """The row of a group chat, if the bot has met it."""
    return session.exec(
        select(Channel).where(Channel.platform == platform, Channel.workspace == workspace, Channel.chat == chat)
    ).first()


def latest_slack_installation(
    *, session: Session, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
) -> SlackInstallation | None:
    """The newest installation of a workspace; without an enterprise id (the outbox knows only the
    team) any installation of the team fits."""
    query = select(SlackInstallation).where(SlackInstallation.team_id == (team_id or ""))
    if enterprise_id is not None:
        query = query.where(SlackInstallation.enterprise_id == enterprise_id)
    if user_id is not None:
        query = query.where(SlackInstallation.user_id == user_id)
    return session.exec(query.order_by(col(SlackInstallation.id).desc())).first()


def delete_slack_installations(
    *, session: Session, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
) -> None:
    query = delete(SlackInstallation).where(
        col(SlackInstallation.enterprise_id) == (enterprise_id or ""),
        col(SlackInstallation.team_id) == (team_id or ""),
    )
    if user_id is not None:
        query = query.where(col(SlackInstallation.user_id) == user_id)
    session.execute(query)


def slack_oauth_state(*, session: Session, state: str) -> SlackOAuthState | None:
    return session.exec(select(SlackOAuthState).where(SlackOAuthState.state == state)).first()


def forget_inbox_events(*, session: Session, before: datetime) -> int:
    """Delete settled inbox rows received before `before`: their keys have stopped repeats long enough."""
    settled = col(InboxEvent.status).in_([InboxStatus.done, InboxStatus.failed])
    statement = delete(InboxEvent).where(settled, col(InboxEvent.received_at) < before)
    return cast(CursorResult[Any], session.execute(statement)).rowcount


def insert_new(session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]], *, key: str) -> dict[Any, int]:
    """Insert, in one statement, the rows whose unique `key` is not taken yet (ON CONFLICT DO NOTHING:
    a row already there, or an earlier one of `rows`, wins); returns key -> id of those inserted."""
    table = model.__table__  # type: ignore[attr-defined]
    dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(table).values(list(rows)).on_conflict_do_nothing(index_elements=[key])
    return {found: row_id for row_id, found in session.execute(statement.returning(table.c.id, table.c[key]))}


def claim_rows(
    session: Session,
    model: type[Claimable],
    *,
    due: ColumnElement[bool],
    values: dict[str, Any],
    order_by: Sequence[Any],
    limit: int,
) -> list[Claimable]:
    """Claim up to `limit` rows that are `due` by setting `values` (a status, a lease) in one
    statement: `UPDATE … WHERE id IN (SELECT … LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING …`. On
    PostgreSQL the sub-select skips rows another process is claiming at that moment; on SQLite the
    one UPDATE is atomic (one writer at a time). The outbox and the inbox both claim this way."""
    key = model.__table__.c.id  # type: ignore[attr-defined]
    ids = select(key).where(due).order_by(*order_by).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        ids = ids.with_for_update(skip_locked=True)
    statement = update(model).where(key.in_(ids.scalar_subquery()), due).values(**values).returning(model)
    return list(session.scalars(statement).all())


def private_chat_owner(
    *, session: Session, platform: str, workspace: str, chat: str, member_id: int | None = None
) -> Identity | None:
    """Whose private chat `chat` is (on Telegram a private chat id is the user id)."""
    query = select(Identity).where(
        Identity.platform == platform,
        Identity.workspace == workspace,
        (col(Identity.user_id) == chat) | (col(Identity.dm_chat) == chat),
    )
    if member_id is not None:
        query = query.where(Identity.member_id == member_id)
    return session.exec(query).first()


def parked_deliveries(
    *, session: Session, platform: str, workspace: str, chats: Sequence[str], reason: str
) -> Sequence[Delivery]:
    """Deliveries to these chats waiting (parked) for `reason`, oldest first."""
    return session.exec(
        select(Delivery)
        .where(
            Delivery.status == DeliveryStatus.parked,
            Delivery.last_error == reason,
            Delivery.platform == platform,
            Delivery.workspace == workspace,
            col(Delivery.chat).in_(list(chats)),
        )
        .order_by(col(Delivery.id))
    ).all()


def community_group(*, session: Session, community_id: int, platform: str, workspace: str) -> Channel | None:
    """The community's group on a platform, in this workspace when it has one there."""
    return session.exec(
        select(Channel)
        .where(
            Channel.community_id == community_id,
            Channel.platform == platform,
            Channel.is_community_channel == True,  # noqa: E712  (SQL expression)
        )
        .order_by(col(Channel.workspace) != workspace, col(Channel.id))
    ).first()


def bot_username(*, session: Session, platform: str) -> str | None:
    """Our bot's username on a platform, as the last process that asked the platform noted it."""
    profile = session.get(BotProfile, platform)
    return profile.username if profile else None


def remember_bot_username(*, session: Session, platform: str, username: str, now: datetime) -> None:
    profile = session.get(BotProfile, platform)
    if profile is None:
        new = BotProfile(platform=platform, username=username, updated_at=now)
        profile = insert_or_fetch(session, lambda: session.add(new), lambda: session.get(BotProfile, platform))
    if profile is not None and profile.username != username:
        profile.username, profile.updated_at = username, now
        session.add(profile)
