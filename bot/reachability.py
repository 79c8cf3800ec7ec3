"""When a platform refuses to write to someone privately (Telegram: the person never opened the bot,
or blocked it), their messages wait instead of being lost, the community's group is told so with a
link to open the bot, and everything waiting goes out again once they start it.

Contract with the outbox dispatcher: on `DeliveryError(permanent=True, reason="forbidden")` call
`mark_unreachable(session, delivery, now=...)` in the same transaction and leave the delivery's
status alone afterwards. The delivery is parked with `last_error == UNREACHABLE`; `member_started`
puts it back to `pending`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from bot.deliveries import enqueue
from bot.i18n import pick_language, translator
from bot.ports import Address, Platform, Reply
from storage.models import Community, Delivery, DeliveryStatus, Identity, Member
from storage.queries import community_group, parked_deliveries, private_chat_owner
from storage.types import utcnow

log = logging.getLogger(__name__)

UNREACHABLE = "unreachable"  # Delivery.last_error of messages waiting for their reader
NOTICE_KIND = "notice"


def mark_unreachable(session: Session, delivery: Delivery, *, now: datetime | None = None) -> Delivery | None:
    """Record that the delivery's reader cannot be written to; returns the group notice planned, if any
    (only on the first refusal: later messages wait quietly until the member starts the bot)."""
    now = now or utcnow()
    delivery.status = DeliveryStatus.parked
    delivery.last_error = UNREACHABLE
    delivery.claimed_until = None
    delivery.next_attempt_at = None
    session.add(delivery)
    identity = _identity(session, delivery)
    if identity is None or not identity.reachable:
        return None
    identity.reachable = False
    session.add(identity)
    return _plan_notice(session, identity, delivery, now)


def member_started(session: Session, identity: Identity, *, now: datetime | None = None) -> int:
    """The member opened the bot: they are reachable again and their waiting messages go out now
    (those no longer useful, past `valid_until`, are skipped). Returns how many were re-queued."""
    now = now or utcnow()
    if not identity.reachable:
        identity.reachable = True
        session.add(identity)
    requeued = 0
    for delivery in _waiting(session, identity):
        if delivery.valid_until is not None and delivery.valid_until <= now:
            delivery.status = DeliveryStatus.skipped
        else:
            delivery.status = DeliveryStatus.pending
            delivery.next_attempt_at = now
            delivery.last_error = None
            requeued += 1
        session.add(delivery)
    session.flush()
    return requeued


def _identity(session: Session, delivery: Delivery) -> Identity | None:
    return private_chat_owner(
        session=session,
        platform=delivery.platform,
        workspace=delivery.workspace,
        chat=delivery.chat,
        member_id=delivery.member_id,
    )


def _waiting(session: Session, identity: Identity) -> Sequence[Delivery]:
    chats = [chat for chat in (identity.dm_chat, identity.user_id) if chat]
    return parked_deliveries(
        session=session, platform=identity.platform, workspace=identity.workspace, chats=chats, reason=UNREACHABLE
    )


def _plan_notice(session: Session, identity: Identity, delivery: Delivery, now: datetime) -> Delivery | None:
    member = session.get(Member, identity.member_id)
    assert member is not None
    community = session.get(Community, member.community_id)
    channel = community_group(
        session=session, community_id=member.community_id, platform=identity.platform, workspace=identity.workspace
    )
    if channel is None:
        log.warning("member %s is unreachable and community %s has no group to say so", member.id, member.community_id)
        return None
    language = pick_language(channel.language, community.language if community else None)
    name = member.display_name or identity.user_id
    notice = Reply(text=translator(language).t("telegram.unreachable_notice", name=name), private_link=True)
    platform: Platform = channel.platform  # type: ignore[assignment]
    return enqueue(
        session,
        dedupe_key=f"{UNREACHABLE}:{identity.id}:{delivery.id}",
        to=Address(platform=platform, workspace=channel.workspace, chat=channel.chat),
        reply=notice,
        kind=NOTICE_KIND,
        due_at=now,
        community_id=member.community_id,
    )
