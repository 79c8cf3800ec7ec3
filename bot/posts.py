"""Offers and needs: validation, saving, editing and withdrawing, whatever the platform."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.errors import UserError
from bot.i18n import N_
from bot.language import detect_language
from bot.matching.encoder import embed_posts
from bot.matching.found import keep_found
from bot.members import Who
from bot.ports import Encoder
from bot.text import clean, one_line
from bot.topics import BY_SLUG
from storage.models import DESCRIPTION_MAX, TITLE_MAX, Post, PostFormat, PostKind, PostStatus
from storage.queries import new_post_ref, post_times_of_member
from storage.types import utcnow

EMPTY = N_("core.error_empty")
OVER_BUDGET = N_("core.error_post_budget")
HOUR = timedelta(hours=1)


@dataclass
class PostDraft:
    """What a conversation (or a Slack modal) has collected so far."""

    kind: PostKind
    title: str = ""
    description: str = ""
    topics: list[str] = field(default_factory=list)
    format: PostFormat | None = None
    available_until: date | None = None
    language: str | None = None
    post_id: int | None = None  # set when editing a saved post

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["format"] = self.format.value if self.format else None
        data["available_until"] = self.available_until.isoformat() if self.available_until else None
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PostDraft:
        until = data.get("available_until")
        return cls(
            kind=PostKind(data["kind"]),
            title=data.get("title", ""),
            description=data.get("description", ""),
            topics=[slug for slug in data.get("topics", []) if slug in BY_SLUG],
            format=PostFormat(data["format"]) if data.get("format") else None,
            available_until=date.fromisoformat(until) if until else None,
            language=data.get("language"),
            post_id=data.get("post_id"),
        )

    @classmethod
    def from_post(cls, post: Post) -> PostDraft:
        return cls(
            kind=post.kind,
            title=post.title,
            description=post.description,
            topics=list(post.topics),
            format=post.format,
            available_until=post.available_until,
            language=post.language,
            post_id=post.id,
        )


def check_title(raw: str) -> str:
    """The cleaned title, or UserError naming what is wrong."""
    title = one_line(clean(raw))
    if not title:
        raise UserError(EMPTY)
    if len(title) > TITLE_MAX:
        raise UserError(N_("core.error_title_long"), count=len(title), limit=TITLE_MAX)
    return title


def check_description(raw: str) -> str:
    description = clean(raw)
    if not description:
        raise UserError(EMPTY)
    if len(description) > DESCRIPTION_MAX:
        raise UserError(N_("core.error_description_long"), count=len(description), limit=DESCRIPTION_MAX)
    return description


def check_budget(session: Session, who: Who, *, now: datetime, per_hour: int) -> None:
    """A person creates at most `per_hour` posts in any hour, however they save them (editing one
    is free); beyond it, UserError saying how many minutes until the next may be saved. The
    caller keeps the draft, so nothing typed is lost."""
    created = post_times_of_member(session=session, member_id=who.member_id, since=now - HOUR)
    if len(created) < per_hour:
        return
    free_at = created[-per_hour] + HOUR  # when the oldest post counted against the next one leaves the hour
    minutes = max(1, math.ceil((free_at - now).total_seconds() / 60))  # rounded up: never "0 minutes"
    raise UserError(OVER_BUDGET, count=minutes, limit=per_hour)


def save(
    session: Session, who: Who, draft: PostDraft, *, language: str, encoder: Encoder, now: datetime, per_hour: int
) -> Post:
    """Create the post (within the person's hourly budget, `check_budget`), or update the one being
    edited; the member's organisation owns it. Its sentence vector and topic scan are made now, so
    matching never waits for them."""
    if who.member.organisation_id is None:
        raise UserError(N_("core.error_no_organisation"))
    post = editable_post(session, who, draft.post_id) if draft.post_id else None
    if post is None:
        check_budget(session, who, now=now, per_hour=per_hour)
        post = Post(
            community_id=who.community_id,
            organisation_id=who.member.organisation_id,
            member_id=who.member_id,
            ref=new_post_ref(draft.kind),
            kind=draft.kind,
            title="",
            created_at=now,
        )
    post.title = check_title(draft.title)
    post.description = check_description(draft.description)
    post.topics = [slug for slug in draft.topics if slug in BY_SLUG]
    post.format = draft.format
    post.available_until = draft.available_until
    # Matching stems by the post's own language, which may differ from the writer's interface language.
    post.language = draft.language or detect_language(f"{post.title}\n{post.description}", language) or language
    post.updated_at = utcnow()
    embed_posts(encoder, [post])
    keep_found([post])
    session.add(post)
    session.flush()
    return post


def own_post(session: Session, who: Who, post_id: int) -> Post:
    """The member's own post, or UserError when it does not exist or belongs to someone else."""
    post = session.get(Post, post_id)
    if post is None or post.community_id != who.community_id:
        raise UserError(N_("core.error_post_not_found"), number=post_id)
    if post.member_id != who.member_id:
        raise UserError(N_("core.error_post_not_yours"), number=post_id)
    return post


def editable_post(session: Session, who: Who, post_id: int) -> Post:
    post = own_post(session, who, post_id)
    if post.status == PostStatus.withdrawn:
        raise UserError(N_("core.error_post_withdrawn"), number=post_id)
    return post


def withdraw(session: Session, who: Who, post_id: int) -> Post:
    post = editable_post(session, who, post_id)
    post.status = PostStatus.withdrawn
    post.updated_at = utcnow()
    session.add(post)
    return post
