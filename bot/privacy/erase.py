"""`/forgetme` and `peerlink forget`: erase a person (GDPR article 17), the same way on both paths.

Their identities, conversations, drafts, answers and messages go; their posts are deleted or, when
others remain in their organisation and they choose so, left to it without their contact; open
matches are withdrawn and the other sides told through the outbox. What stays (meetings they
organised, invites they made, the audit log) no longer names them. Their next message makes them a
new member, a stranger again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot import audit
from bot.privacy.person import Person
from bot.privacy.records import Erasure
from bot.privacy.sections import SECTIONS


@dataclass(frozen=True, slots=True)
class Erased:
    posts_deleted: int
    posts_kept: int
    matches_withdrawn: int
    people_told: int


def forget(
    session: Session,
    person: Person,
    *,
    keep_posts: bool,
    now: datetime,
    source: audit.Source,
    actor_member_id: int | None = None,
) -> Erased:
    erasure = Erasure(session=session, person=person, keep_posts=keep_posts, now=now)
    community_id = person.community_id
    for section in reversed(SECTIONS):
        section.erase(erasure)
    audit.record(
        session,
        community_id=community_id,
        action=audit.Action.forget,
        now=now,
        actor_member_id=actor_member_id,
        source=source,
        target="keep" if erasure.posts_kept else "delete",
    )
    return Erased(erasure.posts_deleted, erasure.posts_kept, erasure.matches_withdrawn, len(erasure.told))
