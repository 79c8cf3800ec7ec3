"""Planning messages for later: every one is an outbox row first, unique by its `dedupe_key`.

The scheduler's dispatcher (schedules/outbox.py) claims due rows and sends them through the
platform's `Notifier`; here we only decide what goes where and when.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.ports import Address, Attachment, Button, Mention, Platform, Reply
from storage.models import Delivery, Identity


def reply_to_payload(reply: Reply) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "text": reply.text,
        "private_link": reply.private_link,
        "buttons": [
            {"label": b.label, "value": b.value, "style": b.style, "selected": b.selected} for b in reply.buttons
        ],
    }
    if reply.mentions:
        payload["mentions"] = [[m.start, m.end, m.user_id] for m in reply.mentions]
    if reply.attachment is not None:
        payload["attachment"] = {
            "filename": reply.attachment.filename,
            "mime_type": reply.attachment.mime_type,
            "content": base64.b64encode(reply.attachment.content).decode("ascii"),
        }
    return payload


def payload_to_reply(payload: dict[str, Any]) -> Reply:
    attachment = payload.get("attachment")
    return Reply(
        text=payload.get("text", ""),
        buttons=tuple(
            Button(
                label=b["label"],
                value=b["value"],
                style=b.get("style", "default"),
                selected=b.get("selected", False),
            )
            for b in payload.get("buttons", [])
        ),
        attachment=Attachment(
            filename=attachment["filename"],
            mime_type=attachment["mime_type"],
            content=base64.b64decode(attachment["content"]),
        )
        if attachment
        else None,
        private_link=payload.get("private_link", False),
        mentions=tuple(Mention(int(start), int(end), str(user)) for start, end, user in payload.get("mentions", [])),
    )


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    to: Address,
    reply: Reply,
    kind: str,
    due_at: datetime,
    valid_until: datetime | None = None,
    community_id: int | None = None,
    member_id: int | None = None,
) -> Delivery | None:
    """Plan one message; planning the same `dedupe_key` twice is harmless (returns None)."""
    if session.exec(select(Delivery.id).where(Delivery.dedupe_key == dedupe_key)).first() is not None:
        return None
    row = Delivery(
        dedupe_key=dedupe_key[:200],
        community_id=community_id,
        kind=kind,
        platform=to.platform,
        workspace=to.workspace,
        chat=to.chat,
        member_id=member_id,
        payload=reply_to_payload(reply),
        due_at=due_at,
        valid_until=valid_until,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # planned concurrently by another process: theirs stands
        return None
    return row


def direct_address(identity: Identity) -> Address:
    """A private message: Slack accepts a user id as channel, a Telegram private chat id is the user id."""
    platform: Platform = identity.platform  # type: ignore[assignment]
    return Address(platform=platform, workspace=identity.workspace, chat=identity.dm_chat or identity.user_id)


def member_address(session: Session, member_id: int) -> Address | None:
    """Where a member is reached privately: their first identity (the platform they joined on)."""
    identities: Sequence[Identity] = session.exec(
        select(Identity).where(Identity.member_id == member_id).order_by(col(Identity.id))
    ).all()
    return direct_address(identities[0]) if identities else None
