"""Everything Peerlink holds about a person, one section per kind of record.

A section says which tables it covers, how to hand its rows over (`export`, plain JSON values) and
how to erase them (`erase`). A new table that refers to a member is one more `Section` in
`SECTIONS` (a test fails until it is). Erasure runs the sections in reverse order, so matches go
before the posts they point to, and the identities and the member row go last.
"""

from __future__ import annotations

from sqlalchemy import delete, func
from sqlmodel import Session, SQLModel, col, select

from bot import audit, relay
from bot.contacts import contact_of
from bot.members import Who
from bot.privacy import posts
from bot.privacy.person import Person
from bot.privacy.records import Erasure, Row, Section, delete_all, fields, plain
from storage.models import (
    ConversationState,
    Delivery,
    DeliveryStatus,
    Invite,
    LinkCode,
    Meeting,
    MemberLink,
    Organisation,
    OrganisationBlock,
    ParkedDraft,
    PartnershipCode,
    Rsvp,
    StaleHome,
)

# --- the member and their accounts ---------------------------------------------------------------


def _member(session: Session, person: Person) -> list[Row]:
    first = person.identities[0] if person.identities else None
    who = Who(member=person.member, identity=first, community=person.community) if first else None
    row = fields(person.member, ("id", "display_name", "role", "language", "timezone", "paused_until", "created_at"))
    row["partnership"] = person.community.name
    # what Peerlink actually uses when it writes to them (their choice, else their platform's, else the partnership's)
    row["effective_language"] = who.language if who else person.community.language
    row["effective_timezone"] = who.timezone.key if who else person.community.timezone
    return [row]


def _erase_member(erasure: Erasure) -> None:
    session = erasure.session
    session.flush()  # deletions above mark homes to redraw; theirs must not outlive them
    session.execute(delete(StaleHome).where(col(StaleHome.member_id) == erasure.person.member_id))
    organisation_id = erasure.person.member.organisation_id
    session.delete(erasure.person.member)
    session.flush()
    if organisation_id is not None:
        _drop_if_unused(session, organisation_id)


def _drop_if_unused(session: Session, organisation_id: int) -> None:
    """An organisation nothing refers to any more (its name was the person's own words) goes too."""
    referring = [
        (table, column)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if any(key.column.table.name == "organisation" for key in column.foreign_keys)
    ]
    for table, column in referring:
        if session.execute(select(func.count()).select_from(table).where(column == organisation_id)).scalar():
            return
    found = session.get(Organisation, organisation_id)
    if found is not None:
        session.delete(found)
        session.flush()


def _identities(_session: Session, person: Person) -> list[Row]:
    names = ("platform", "workspace", "user_id", "locale", "timezone", "dm_chat", "reachable", "created_at")
    return [fields(identity, names) for identity in person.identities]


def _erase_identities(erasure: Erasure) -> None:
    delete_all(erasure.session, list(erasure.person.identities))


def _organisation(session: Session, person: Person) -> list[Row]:
    organisation_id = person.member.organisation_id
    found = session.get(Organisation, organisation_id) if organisation_id is not None else None
    return [fields(found, ("id", "name", "kind", "city", "country"))] if found else []


def _roles(_session: Session, person: Person) -> list[Row]:
    return [{"partnership": person.community.name, "role": plain(person.member.role)}]


def _nothing(_erasure: Erasure) -> None:
    """The role goes with the member row, the organisation with it when nothing else refers to it."""


def _contact(session: Session, person: Person) -> list[Row]:
    found = contact_of(session, person.member_id)
    return [{"kind": found.kind.value, "value": found.value, "platform": found.platform}] if found else []


def _links(session: Session, person: Person) -> list[Row]:
    links = session.exec(select(MemberLink).where(MemberLink.member_id == person.member_id)).all()
    codes = session.exec(select(LinkCode).where(LinkCode.member_id == person.member_id)).all()
    return [
        *({"linked_identity": link.identity_id, "since": plain(link.created_at)} for link in links),
        *({"link_code_expires_at": plain(code.expires_at)} for code in codes),
    ]


def _erase_links(erasure: Erasure) -> None:
    session, member_id = erasure.session, erasure.person.member_id
    links = session.exec(select(MemberLink).where(MemberLink.member_id == member_id)).all()
    codes = session.exec(select(LinkCode).where(LinkCode.member_id == member_id)).all()
    delete_all(session, [*links, *codes])


# --- what they said and did --------------------------------------------------------------------


def _rsvps(session: Session, person: Person) -> list[Row]:
    rows = session.exec(select(Rsvp).where(Rsvp.member_id == person.member_id).order_by(col(Rsvp.id))).all()
    found = []
    for rsvp in rows:
        meeting = session.get(Meeting, rsvp.meeting_id)
        found.append(
            {
                "meeting": meeting.title if meeting else None,
                "meeting_start": plain(meeting.start_at) if meeting else None,
                "answer": plain(rsvp.answer),
                "updated_at": plain(rsvp.updated_at),
            }
        )
    return found


def _erase_rsvps(erasure: Erasure) -> None:
    rows = erasure.session.exec(select(Rsvp).where(Rsvp.member_id == erasure.person.member_id)).all()
    delete_all(erasure.session, rows)


def _meetings(session: Session, person: Person) -> list[Row]:
    rows = session.exec(select(Meeting).where(Meeting.organiser_id == person.member_id).order_by(col(Meeting.id))).all()
    return [fields(meeting, ("id", "title", "start_at", "timezone", "status")) for meeting in rows]


def _erase_meetings(erasure: Erasure) -> None:
    """The meeting stays for everyone invited; it no longer names its organiser."""
    session = erasure.session
    for meeting in session.exec(select(Meeting).where(Meeting.organiser_id == erasure.person.member_id)).all():
        meeting.organiser_id = None
        session.add(meeting)
    session.flush()


def _blocks(session: Session, person: Person) -> list[Row]:
    rows = session.exec(select(OrganisationBlock).where(OrganisationBlock.member_id == person.member_id)).all()
    found = []
    for block in rows:
        organisation = session.get(Organisation, block.blocked_organisation_id)
        found.append({"organisation": organisation.name if organisation else None, "since": plain(block.created_at)})
    return found


def _erase_blocks(erasure: Erasure) -> None:
    rows = erasure.session.exec(
        select(OrganisationBlock).where(OrganisationBlock.member_id == erasure.person.member_id)
    ).all()
    delete_all(erasure.session, rows)


# --- conversations and messages ----------------------------------------------------------------


def _states(session: Session, person: Person) -> list[ConversationState]:
    found: list[ConversationState] = []
    for identity in person.identities:
        found += session.exec(
            select(ConversationState).where(
                ConversationState.platform == identity.platform,
                ConversationState.workspace == identity.workspace,
                ConversationState.user_id == identity.user_id,
            )
        ).all()
    return found


def _drafts(session: Session, person: Person) -> list[ParkedDraft]:
    return list(session.exec(select(ParkedDraft).where(ParkedDraft.member_id == person.member_id)).all())


def _conversations(session: Session, person: Person) -> list[Row]:
    going = [
        {"state": "current", **fields(s, ("flow", "step", "draft", "updated_at"))} for s in _states(session, person)
    ]
    kept = [{"state": "parked", **fields(d, ("flow", "step", "draft", "updated_at"))} for d in _drafts(session, person)]
    return going + kept


def _erase_conversations(erasure: Erasure) -> None:
    session, person = erasure.session, erasure.person
    delete_all(session, [*_states(session, person), *_drafts(session, person)])


def addressed_to(session: Session, person: Person) -> list[Delivery]:
    """Outbox rows for them: planned for them, or to one of their private chats (a Slack group
    message of an introduction names them in its address)."""
    rows = {row.id: row for row in session.exec(select(Delivery).where(Delivery.member_id == person.member_id))}
    for identity in person.identities:
        chats = {identity.user_id, identity.dm_chat or identity.user_id}
        same_place = (Delivery.platform == identity.platform, Delivery.workspace == identity.workspace)
        for row in session.exec(select(Delivery).where(*same_place, col(Delivery.chat).in_(chats))):
            rows[row.id] = row
        for row in session.exec(select(Delivery).where(*same_place, col(Delivery.chat).startswith("users:"))):
            if identity.user_id in row.chat.removeprefix("users:").split(","):
                rows[row.id] = row
    return [rows[key] for key in sorted(k for k in rows if k is not None)]


def _deliveries(session: Session, person: Person) -> list[Row]:
    found = []
    for row in addressed_to(session, person):
        data = fields(row, ("kind", "status", "platform", "chat", "due_at", "sent_at"))
        data["text"] = row.payload.get("text")
        data["file"] = (row.payload.get("attachment") or {}).get("filename")
        found.append(data)
    return found


def _erase_deliveries(erasure: Erasure) -> None:
    """A row being sent this very moment is left to finish (it no longer names them); the rest goes."""
    session = erasure.session
    rows = addressed_to(session, erasure.person)
    for row in rows:
        if row.status == DeliveryStatus.sending:
            row.member_id = None
            session.add(row)
    delete_all(session, [row for row in rows if row.status != DeliveryStatus.sending])


def _relayed(session: Session, person: Person) -> list[Row]:
    """What they wrote to, and read from, the other sides of their introductions while open."""
    found = []
    for message in relay.messages_of(session, person.member_id):
        row = fields(message, ("match_id", "text", "created_at"))
        row["written_by"] = "me" if message.member_id == person.member_id else "the other side"
        found.append(row)
    return found


def _erase_relayed(erasure: Erasure) -> None:
    delete_all(erasure.session, list(relay.messages_of(erasure.session, erasure.person.member_id)))


# --- what they did as a facilitator ------------------------------------------------------------


def _invites(session: Session, person: Person) -> list[Row]:
    rows = session.exec(select(Invite).where(Invite.created_by == person.member_id).order_by(col(Invite.id))).all()
    return [fields(invite, ("code", "uses", "expires_at", "created_at")) for invite in rows]


def _codes(session: Session, person: Person) -> list[Row]:
    mine = (col(PartnershipCode.created_by) == person.member_id) | (col(PartnershipCode.used_by) == person.member_id)
    rows = session.exec(select(PartnershipCode).where(mine).order_by(col(PartnershipCode.id))).all()
    return [fields(row, ("created_at", "expires_at", "used_at")) for row in rows]


def _erase_invites(erasure: Erasure) -> None:
    """Invites keep working; they no longer say who made them."""
    session = erasure.session
    for invite in session.exec(select(Invite).where(Invite.created_by == erasure.person.member_id)).all():
        invite.created_by = None
        session.add(invite)
    session.flush()


def _erase_codes(erasure: Erasure) -> None:
    """Partnership codes stay (a used one records the link); they no longer say who made or used them."""
    session, member_id = erasure.session, erasure.person.member_id
    mine = (col(PartnershipCode.created_by) == member_id) | (col(PartnershipCode.used_by) == member_id)
    for code in session.exec(select(PartnershipCode).where(mine)).all():
        code.created_by = None if code.created_by == member_id else code.created_by
        code.used_by = None if code.used_by == member_id else code.used_by
        session.add(code)
    session.flush()


def _audit(session: Session, person: Person) -> list[Row]:
    found = []
    for entry in audit.entries_about(session, person.member_id):
        found.append(
            {
                "action": entry.action,
                "as": "actor" if entry.actor_member_id == person.member_id else "subject",
                "target": entry.target,
                "at": plain(entry.created_at),
            }
        )
    return found


def _erase_audit(erasure: Erasure) -> None:
    audit.forget_member(erasure.session, erasure.person.member_id)
    erasure.session.flush()


# In export order; erasure runs them backwards.
SECTIONS: tuple[Section, ...] = (
    Section("member", ("member", "stalehome"), _member, _erase_member),
    Section("identities", ("identity",), _identities, _erase_identities),
    Section("organisation", (), _organisation, _nothing),
    Section("roles", (), _roles, _nothing),
    Section("contact", (), _contact, _nothing),  # columns of the member row, erased with it
    Section("linked_accounts", ("linkcode", "memberlink"), _links, _erase_links),
    Section("posts", ("post",), posts.export_posts, posts.erase_posts),
    Section("matches", ("match",), posts.export_matches, posts.erase_matches),
    Section("rsvps", ("rsvp",), _rsvps, _erase_rsvps),
    Section("meetings_organised", ("meeting",), _meetings, _erase_meetings),
    Section("blocked_organisations", ("organisationblock",), _blocks, _erase_blocks),
    Section("conversations", ("conversationstate", "parkeddraft"), _conversations, _erase_conversations),
    Section("deliveries", ("delivery",), _deliveries, _erase_deliveries),
    Section("relayed_messages", ("relaymessage",), _relayed, _erase_relayed),
    Section("invites_created", ("invite",), _invites, _erase_invites),
    Section("partnership_codes", ("partnershipcode",), _codes, _erase_codes),
    Section("audit_log", ("auditentry",), _audit, _erase_audit),
)
