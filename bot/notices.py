"""A message planned for one member's private chat, written for that reader (language, zone).

Every "tell this member" in the kernel goes through `notify_member`, so a member without an
identity is skipped the same way everywhere and every notice is an outbox row with its dedupe key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from bot.deliveries import enqueue
from bot.ports import Reply
from bot.readers import Reader, member_reader
from storage.models import Delivery


def notify_member(
    session: Session,
    member_id: int,
    write: Callable[[Reader], Reply],
    *,
    dedupe_key: str,
    kind: str,
    due_at: datetime,
    community_id: int | None,
) -> Delivery | None:
    """Plan `write(reader)` for the member; None when they cannot be reached or it is already planned."""
    reader = member_reader(session, member_id)
    if reader is None:
        return None
    return enqueue(
        session,
        dedupe_key=dedupe_key,
        to=reader.address,
        reply=write(reader),
        kind=kind,
        due_at=due_at,
        community_id=community_id,
        member_id=member_id,
    )


def text_for(key: str, **values: object) -> Callable[[Reader], Reply]:
    """A plain notice: one catalog message rendered in the reader's language."""
    return lambda reader: Reply(text=reader.tr.t(key, **values))
