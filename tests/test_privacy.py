"""Each person's data through the real dispatcher: /mydata hands everything over, /forgetme erases
it (after a choice and a typed word), `peerlink forget` does the same from the command line, and
nothing about the person is left in any table."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import ForeignKey, text
from sqlmodel import SQLModel, select

from bot.deps import Deps
from bot.i18n import translator
from bot.matches import side_members
from bot.ports import Address, Incoming, Reply, Sender
from bot.privacy.sections import SECTIONS
from bot.runtime.cli import cli
from handlers.application.conversation import Conversations
from handlers.console import Console, console_sender
from storage.db import transaction
from storage.models import (
    AuditEntry,
    ConversationState,
    Delivery,
    DeliveryStatus,
    Identity,
    Invite,
    Match,
    MatchStatus,
    Meeting,
    Member,
    OrganisationBlock,
    PartnershipCode,
    Post,
    Rsvp,
    RsvpAnswer,
)
from tests.conftest import FakeClock

ANA = "Ana Ruiz@Bilbao City Council"
BOB = "Bob Nowak@Warsaw City Hall"
CARLA = "Carla Soto@Bilbao City Council"
OFFER = ("Social clauses in public tenders", "We reserved catering contracts for work-integration enterprises.")
NEED = ("Learning to write social clauses", "We want to reserve public contracts for social enterprises.")


def handle(deps: Deps, identity: str, said: str, *, private: bool = True) -> list[Reply]:
    sender = console_sender(identity)
    chat = Address(platform="console", workspace="local", chat=sender.user_id if private else "group-1")
    return Conversations(deps).handle(Incoming(sender=sender, chat=chat, text=said, is_private=private))


def say(deps: Deps, identity: str, said: str) -> str:
    return "\n".join(Console(deps, console_sender(identity)).say(said))


def write_post(deps: Deps, identity: str, kind: str, title: str, description: str) -> Post:
    for line in (f"/{kind}", title, description, "done", "save"):
        say(deps, identity, line)
    with deps.sessions() as session:
        found = session.exec(select(Post).where(Post.title == title)).one()
        return found


def member_of(deps: Deps, identity: str) -> Member | None:
    user_id = console_sender(identity).user_id
    with deps.sessions() as session:
        found = session.exec(select(Identity).where(Identity.user_id == user_id)).first()
        return session.get(Member, found.member_id) if found else None


def pair(deps: Deps, need: Post, offer: Post, status: MatchStatus = MatchStatus.suggested) -> int:
    """The match between two posts (an instant suggestion may have recorded it already)."""
    with transaction(deps.sessions) as session:
        match = session.exec(select(Match).where(Match.need_id == need.id, Match.offer_id == offer.id)).first()
        match = match or Match(community_id=need.community_id, need_id=need.id or 0, offer_id=offer.id or 0)
        match.status = status
        session.add(match)
        session.flush()
        assert match.id is not None
        return match.id


def everything(deps: Deps) -> str:
    """Every row of every table, as text: what a search for a person's traces goes through."""
    dump: list[str] = []
    with deps.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            dump += [repr(tuple(row)) for row in connection.execute(table.select())]
    return "\n".join(dump)


def traces(deps: Deps, identity: str, *extra: str) -> list[str]:
    sender = console_sender(identity)
    dump = everything(deps)
    return [marker for marker in (sender.user_id, sender.display_name, *extra) if marker in dump]


def mydata(deps: Deps, identity: str) -> dict[str, Any]:
    # a conversation in progress is put aside first, as any command does
    [reply] = [reply for reply in handle(deps, identity, "/mydata") if reply.attachment is not None]
    assert reply.attachment is not None
    assert reply.attachment.mime_type == "application/json"
    assert "Peerlink" in reply.text  # in the person's language
    data: dict[str, Any] = json.loads(reply.attachment.content)
    return data


class _Any:
    """Equal to anything: for a value the test does not pin down (a time set by the database)."""

    def __eq__(self, other: object) -> bool:
        return True


ANY = _Any()


# --- /mydata -------------------------------------------------------------------------------------


def test_every_table_that_refers_to_a_member_has_a_section() -> None:
    covered = {table for section in SECTIONS for table in section.tables}
    referring = {
        table.name
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        for key in column.foreign_keys
        if isinstance(key, ForeignKey) and key.column.table.name == "member"
    }
    assert referring | {"member", "conversationstate"} <= covered


def test_mydata_sends_everything_as_json(deps: Deps, clock: FakeClock) -> None:
    offer = write_post(deps, ANA, "offer", *OFFER)
    need = write_post(deps, BOB, "need", *NEED)
    match_id = pair(deps, need, offer)
    say(deps, ANA, "/language es")
    say(deps, ANA, "/need")
    say(deps, ANA, "Medir el impacto social")  # a conversation in progress
    ana = member_of(deps, ANA)
    assert ana is not None
    with transaction(deps.sessions) as session:
        meeting = Meeting(community_id=ana.community_id, title="Peer meeting", start_at=clock.now(), uid="m-1")
        session.add(meeting)
        session.flush()
        session.add(Rsvp(meeting_id=meeting.id or 0, member_id=ana.id or 0, answer=RsvpAnswer.yes))
        session.add(OrganisationBlock(member_id=ana.id or 0, blocked_organisation_id=need.organisation_id))

    data = mydata(deps, ANA)
    assert data["format"] == "peerlink-personal-data/1"
    assert set(data) >= {section.name for section in SECTIONS}
    assert data["member"][0]["display_name"] == "Ana Ruiz"
    assert data["member"][0]["effective_language"] == "es"
    assert data["identities"][0]["user_id"] == console_sender(ANA).user_id
    assert data["organisation"][0]["name"] == "Bilbao City Council"
    assert [role["role"] for role in data["roles"]] == ["member"]
    assert [post["title"] for post in data["posts"]] == [OFFER[0]]
    assert data["posts"][0]["created_at"].endswith("+00:00")
    [match] = data["matches"]
    assert (match["id"], match["my_post"], match["other_post"]["title"]) == (match_id, offer.id, NEED[0])
    assert data["rsvps"] == [
        {"meeting": "Peer meeting", "meeting_start": clock.now().isoformat(), "answer": "yes", "updated_at": ANY}
    ]
    assert data["blocked_organisations"][0]["organisation"] == "Warsaw City Hall"
    [conversation] = data["conversations"]
    assert conversation["flow"] == "need"
    assert "Medir el impacto social" in json.dumps(conversation["draft"], ensure_ascii=False)
    assert "Bob Nowak" not in json.dumps(data, ensure_ascii=False)  # nobody else's personal data


def test_personal_data_stays_out_of_groups(deps: Deps) -> None:
    for command in ("/mydata", "/forgetme"):
        [reply] = handle(deps, ANA, command, private=False)
        assert reply.attachment is None
        assert reply.private_link
        assert "only shown in a private chat" in reply.text


# --- /forgetme -----------------------------------------------------------------------------------


def test_forgetme_asks_then_erases_everything(deps: Deps) -> None:
    offer = write_post(deps, ANA, "offer", *OFFER)
    need = write_post(deps, BOB, "need", *NEED)
    match_id = pair(deps, need, offer)
    say(deps, ANA, "/need")
    say(deps, ANA, "A draft about impact")
    say(deps, ANA, "/cancel")

    [explained] = handle(deps, ANA, "/forgetme")
    assert "cannot be undone" in explained.text
    assert [(b.label, b.value) for b in explained.buttons] == [("Erase me and my posts", "/forgetme delete")]
    [asked] = handle(deps, ANA, "/forgetme delete")
    assert "type /forgetme delete ERASE" in asked.text
    assert [b.value for b in asked.buttons] == ["/forgetme delete ERASE"]
    assert "did not match" in say(deps, ANA, "/forgetme delete please")
    assert member_of(deps, ANA) is not None  # a wrong word erases nothing

    done = say(deps, ANA, "/forgetme delete erase")
    assert "Peerlink has forgotten you. Posts deleted: 1; left to your organisation: 0; matches withdrawn: 1" in done

    assert member_of(deps, ANA) is None
    assert traces(deps, ANA, *OFFER, "A draft about impact", "Bilbao City Council") == []  # her organisation too
    with deps.sessions() as session:
        assert session.get(Match, match_id) is None
        [told] = session.exec(select(Delivery).where(Delivery.kind == "withdrawn")).all()
        [entry] = session.exec(select(AuditEntry)).all()
    bob = member_of(deps, BOB)
    assert bob is not None
    assert told.member_id == bob.id
    assert told.payload["text"] == (
        f"Match #{match_id} for your “{NEED[0]}” is no longer available: the other side has withdrawn."
    )
    assert (entry.action, entry.source, entry.actor_member_id, entry.target) == ("forget", "self", None, "delete")
    # a stranger again: a new member, nothing of before
    assert say(deps, ANA, "/mine") == translator("en").t("core.mine_empty")
    again = member_of(deps, ANA)
    assert again is not None
    assert again.organisation_id is not None  # the console names the organisation again, as on first contact


def test_forgetme_can_leave_the_posts_to_the_organisation(deps: Deps) -> None:
    offer = write_post(deps, ANA, "offer", *OFFER)
    write_post(deps, CARLA, "offer", "Community land trusts", "We run two community land trusts in the old town.")
    carla = member_of(deps, CARLA)
    assert carla is not None
    assert carla.organisation_pending  # Bilbao City Council was Ana's first: Ana vouches for Carla
    say(deps, ANA, f"/peer org approve {carla.id}")
    need = write_post(deps, BOB, "need", *NEED)
    match_id = pair(deps, need, offer, MatchStatus.introduced)
    with transaction(deps.sessions) as session:
        kept = session.get(Post, offer.id)
        assert kept is not None
        kept.contact = "ana@bilbao.example"
        session.add(kept)
    say(deps, ANA, "/language es")

    [explained] = handle(deps, ANA, "/forgetme")
    assert [b.value for b in explained.buttons] == ["/forgetme keep", "/forgetme delete"]
    assert explained.buttons[0].label == "Dejar mis publicaciones a Bilbao City Council"
    [asked] = handle(deps, ANA, "/forgetme keep")
    assert "/forgetme keep BORRAR" in asked.text
    assert "Publicaciones borradas: 0; dejadas a tu organización: 1" in say(deps, ANA, "/forgetme conservar BORRAR")

    assert traces(deps, ANA, "ana@bilbao.example") == []
    assert "Bilbao City Council" in everything(deps)  # Carla's organisation stays
    with deps.sessions() as session:
        post = session.get(Post, offer.id)
        match = session.get(Match, match_id)
        told = session.exec(select(Delivery).where(Delivery.kind == "withdrawn")).all()
    assert post is not None
    assert (post.member_id, post.contact, post.title) == (None, None, OFFER[0])
    assert match is not None
    assert match.status == MatchStatus.declined
    assert len(told) == 1
    with deps.sessions() as session:  # Carla now speaks for the organisation's post
        assert [member.id for member in side_members(session, post)] == [carla.id if carla else -1]


def open_matches(deps: Deps, post: Post) -> int:
    with deps.sessions() as session:
        on_post = (Match.need_id == post.id) | (Match.offer_id == post.id)  # type: ignore[operator]
        return len(session.exec(select(Match).where(on_post, Match.status == MatchStatus.suggested)).all())


def test_chat_and_command_line_forget_alike(deps: Deps) -> None:
    """Two people with the same history, one erased by /forgetme, one by `peerlink forget`."""
    dan = "Dan Berg@Malmö stad"
    offers = {}
    for who, title in ((ANA, OFFER[0]), (dan, "Social value in procurement")):
        need = write_post(deps, BOB, "need", f"{NEED[0]} ({len(offers) + 1})", NEED[1])
        offers[who] = write_post(deps, who, "offer", title, OFFER[1])
        pair(deps, need, offers[who])
    withdrawn = {who: open_matches(deps, post) for who, post in offers.items()}
    assert all(withdrawn.values())
    chat = say(deps, ANA, "/forgetme delete ERASE")
    result = CliRunner().invoke(
        cli, ["forget", f"console:{console_sender(dan).user_id}", "--posts", "delete", "--yes"], obj={"deps": deps}
    )
    assert result.exit_code == 0, result.output
    assert f"Posts deleted: 1; left to your organisation: 0; matches withdrawn: {withdrawn[ANA]}." in chat
    assert f"Posts deleted: 1; left to the organisation: 0; matches withdrawn: {withdrawn[dan]}." in result.output
    assert traces(deps, ANA, OFFER[0]) == []
    assert traces(deps, dan, "Social value in procurement") == []
    with deps.sessions() as session:
        told = session.exec(select(Delivery).where(Delivery.kind == "withdrawn")).all()
        sources = sorted(e.source for e in session.exec(select(AuditEntry).where(AuditEntry.action == "forget")))
    assert len(told) == withdrawn[ANA] + withdrawn[dan]
    assert sources == ["cli", "self"]


def test_command_line_forget_refuses_politely(deps: Deps) -> None:
    runner = CliRunner()
    unknown = runner.invoke(cli, ["forget", "slack:U0NOBODY", "--posts", "keep", "--yes"], obj={"deps": deps})
    assert unknown.exit_code == 1
    assert "Nobody is known as slack:U0NOBODY; nothing was erased." in unknown.output
    malformed = runner.invoke(cli, ["forget", "U0123", "--posts", "keep", "--yes"], obj={"deps": deps})
    assert malformed.exit_code == 2
    assert "expected platform:user-id" in malformed.output
    write_post(deps, ANA, "offer", *OFFER)
    target = f"console:{console_sender(ANA).user_id}"
    declined = runner.invoke(cli, ["forget", target, "--posts", "delete"], obj={"deps": deps}, input="n\n")
    assert declined.exit_code == 1
    assert "Erase everything Peerlink holds about" in declined.output
    assert member_of(deps, ANA) is not None


def test_forget_reaches_every_platform_identity(deps: Deps) -> None:
    write_post(deps, ANA, "offer", *OFFER)
    ana = member_of(deps, ANA)
    assert ana is not None
    with transaction(deps.sessions) as session:
        session.add(Identity(member_id=ana.id or 0, platform="telegram", workspace="5550001", user_id="4242"))
        session.add(
            ConversationState(
                platform="telegram", workspace="5550001", chat="4242", user_id="4242", flow="offer", step="title"
            )
        )
    result = CliRunner().invoke(cli, ["forget", "telegram:4242", "--posts", "delete", "--yes"], obj={"deps": deps})
    assert result.exit_code == 0, result.output
    assert member_of(deps, ANA) is None
    with deps.sessions() as session:
        assert session.exec(select(Identity).where(Identity.user_id == "4242")).first() is None
        assert session.exec(select(ConversationState)).first() is None


@pytest.mark.parametrize("table", ["member", "identity", "post"])
def test_nothing_left_in_the_database_tables(deps: Deps, table: str) -> None:
    write_post(deps, ANA, "offer", *OFFER)
    ana = member_of(deps, ANA)
    assert ana is not None
    say(deps, ANA, "/forgetme delete ERASE")
    column = {"member": "id", "identity": "member_id", "post": "member_id"}[table]
    with deps.engine.connect() as connection:
        count = connection.execute(text(f"SELECT count(*) FROM {table} WHERE {column} = :id"), {"id": ana.id}).scalar()
    assert count == 0


def test_a_member_who_is_not_a_facilitator_cannot_read_the_audit_log(deps: Deps) -> None:
    sender: Sender = replace(console_sender(BOB), is_platform_admin=False)
    incoming = Incoming(sender=sender, chat=Address("console", "local", sender.user_id), text="/peer audit")
    [reply] = Conversations(deps).handle(incoming)
    assert "facilitators" in reply.text


def test_messages_for_the_person_are_handed_over_then_erased(deps: Deps, clock: FakeClock) -> None:
    say(deps, ANA, "/help")
    ana = member_of(deps, ANA)
    assert ana is not None
    sender = console_sender(ANA)
    with transaction(deps.sessions) as session:
        for key, status in (("reminder:1", DeliveryStatus.sent), ("reminder:2", DeliveryStatus.sending)):
            session.add(
                Delivery(
                    dedupe_key=key,
                    kind="reminder",
                    platform="console",
                    workspace="local",
                    chat=sender.user_id,
                    member_id=ana.id,
                    payload={"text": f"Your meeting starts soon ({key})"},
                    due_at=clock.now(),
                    status=status,
                )
            )
    data = mydata(deps, ANA)
    assert [(d["kind"], d["status"], d["text"]) for d in data["deliveries"]] == [
        ("reminder", "sent", "Your meeting starts soon (reminder:1)"),
        ("reminder", "sending", "Your meeting starts soon (reminder:2)"),
    ]
    say(deps, ANA, "/forgetme delete ERASE")
    with deps.sessions() as session:
        left = session.exec(select(Delivery)).all()
    # the one being sent this moment finishes, naming nobody; the retention job empties it later
    assert [(row.dedupe_key, row.member_id) for row in left] == [("reminder:2", None)]


def test_what_a_facilitator_made_stays_without_their_name(deps: Deps, clock: FakeClock) -> None:
    say(deps, ANA, "/peer invite")
    say(deps, ANA, "/peer link")
    ana = member_of(deps, ANA)
    assert ana is not None
    with transaction(deps.sessions) as session:
        session.add(
            Meeting(community_id=ana.community_id, organiser_id=ana.id, title="Kick-off", start_at=clock.now(), uid="k")
        )
    made = mydata(deps, ANA)
    assert len(made["invites_created"]) == len(made["partnership_codes"]) == len(made["meetings_organised"]) == 1
    assert [entry["action"] for entry in made["audit_log"]] == ["invite", "link_code"]

    say(deps, ANA, "/forgetme delete ERASE")
    assert traces(deps, ANA) == []
    with deps.sessions() as session:
        assert [i.created_by for i in session.exec(select(Invite))] == [None]
        assert [(c.created_by, c.used_by) for c in session.exec(select(PartnershipCode))] == [(None, None)]
        assert [m.organiser_id for m in session.exec(select(Meeting))] == [None]
        actors = [e.actor_member_id for e in session.exec(select(AuditEntry).order_by(AuditEntry.id))]  # type: ignore[arg-type]
    assert actors == [None, None, None]  # invite, link code, and the erasure itself


def test_keeping_posts_with_nobody_left_asks_again_before_deleting(deps: Deps) -> None:
    write_post(deps, ANA, "offer", *OFFER)
    [asked] = handle(deps, ANA, "/forgetme keep ERASE")
    assert "you and your posts will be erased" in asked.text
    assert [b.value for b in asked.buttons] == ["/forgetme delete ERASE"]
    assert member_of(deps, ANA) is not None


def test_messages_about_an_erased_post_go_with_it(deps: Deps, clock: FakeClock) -> None:
    offer = write_post(deps, ANA, "offer", *OFFER)
    need = write_post(deps, BOB, "need", *NEED)
    match_id = pair(deps, need, offer, MatchStatus.introduced)
    bob = member_of(deps, BOB)
    assert bob is not None
    with transaction(deps.sessions) as session:
        for key, status in ((f"introduction:{match_id}:console:local:bob", DeliveryStatus.sent),
                            (f"followup:{match_id}:{bob.id}", DeliveryStatus.pending)):  # fmt: skip
            session.add(
                Delivery(
                    dedupe_key=key,
                    kind=key.split(":")[0],
                    platform="console",
                    workspace="local",
                    chat="bob",
                    member_id=bob.id,
                    payload={"text": f"Meet Bilbao City Council about “{OFFER[0]}”"},
                    due_at=clock.now(),
                    status=status,
                )
            )
    say(deps, ANA, "/forgetme delete ERASE")
    assert traces(deps, ANA, *OFFER) == []
    with deps.sessions() as session:
        assert [row.kind for row in session.exec(select(Delivery))] == ["withdrawn"]
