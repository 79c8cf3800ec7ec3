"""The audit log: every facilitator action is recorded by one function, and `/peer audit` shows the
caller's own partnership, newest first, in the reader's timezone."""

from __future__ import annotations

from click.testing import CliRunner
from sqlmodel import select

from bot import partnerships
from bot.deps import Deps
from bot.ports import Address, Incoming, Sender
from bot.runtime.cli import cli
from handlers.application.conversation import Conversations
from handlers.console import Console, console_sender
from storage.db import transaction
from storage.models import AuditEntry, Community, Identity, Match, Member, PartnershipCode, Post
from tests.conftest import FakeClock

ANA = "Ana Ruiz@Bilbao City Council"  # the console's person is a facilitator, as a workspace admin is
BOB = "Bob Nowak@Warsaw City Hall"


def say(deps: Deps, identity: str, text: str) -> str:
    return "\n".join(Console(deps, console_sender(identity)).say(text))


def member(deps: Deps, identity: str) -> Member:
    with deps.sessions() as session:
        found = session.exec(select(Identity).where(Identity.user_id == console_sender(identity).user_id)).one()
        person = session.get(Member, found.member_id)
        assert person is not None
        return person


def post(deps: Deps, identity: str, kind: str, title: str, description: str) -> Post:
    for line in (f"/{kind}", title, description, "done", "save"):
        say(deps, identity, line)
    with deps.sessions() as session:
        return session.exec(select(Post).where(Post.title == title)).one()


def test_facilitator_actions_are_recorded_and_shown_in_the_readers_timezone(deps: Deps, clock: FakeClock) -> None:
    say(deps, BOB, "/help")
    say(deps, ANA, "/help")
    with transaction(deps.sessions) as session:
        ana = session.get(Member, member(deps, ANA).id)
        assert ana is not None
        ana.timezone = "America/Mexico_City"  # 09:00 UTC is 03:00 there
        session.add(ana)
    need = post(deps, BOB, "need", "Learning to write social clauses", "We want to reserve contracts for SSE.")
    offer = post(deps, ANA, "offer", "Social clauses in public tenders", "We reserved catering contracts.")
    with transaction(deps.sessions) as session:
        match = session.exec(select(Match).where(Match.need_id == need.id, Match.offer_id == offer.id)).first()
        match = match or Match(community_id=need.community_id, need_id=need.id or 0, offer_id=offer.id or 0)
        session.add(match)
        session.flush()
        match_id = match.id

    assert "is now a facilitator" in say(deps, ANA, f"/peer role {console_sender(BOB).user_id} facilitator")
    clock.advance(minutes=1)
    say(deps, ANA, "/peer export")
    clock.advance(minutes=1)
    say(deps, ANA, "/peer invite")
    clock.advance(minutes=1)
    say(deps, ANA, "/peer link")
    clock.advance(minutes=1)
    say(deps, ANA, f"/peer introduce {match_id}")
    clock.advance(minutes=1)
    granted = CliRunner().invoke(cli, ["role", "grant", "telegram:4242", "facilitator"], obj={"deps": deps})
    assert granted.exit_code == 0, granted.output
    with transaction(deps.sessions) as session:  # another partnership's log stays its own
        other = Community(name="Elsewhere")
        session.add(other)
        session.flush()
        session.add(AuditEntry(community_id=other.id or 0, action="export", target="99", created_at=clock.now()))

    shown = say(deps, ANA, "/peer audit").splitlines()
    assert shown[0] == "Latest facilitator actions in Peerlink (times in America/Mexico_City):"
    assert shown[1:] == [
        f"2026-03-02 03:05 · Role facilitator given to #{_telegram_member(deps)} by the command line",
        f"2026-03-02 03:04 · Match #{match_id} introduced by Ana Ruiz",
        "2026-03-02 03:03 · Partnership link code created by Ana Ruiz",
        "2026-03-02 03:02 · Invite link created (organisation: -) by Ana Ruiz",
        "2026-03-02 03:01 · Posts exported (rows: 2) by Ana Ruiz",
        "2026-03-02 03:00 · Role facilitator given to Bob Nowak by Ana Ruiz",
    ]


def _telegram_member(deps: Deps) -> int:
    with deps.sessions() as session:
        found = session.exec(select(Identity).where(Identity.user_id == "4242")).one()
        return found.member_id


def test_entries_outlive_the_people_they_name(deps: Deps) -> None:
    say(deps, BOB, "/help")
    say(deps, ANA, f"/peer role {console_sender(BOB).user_id} facilitator")
    say(deps, ANA, "/forgetme delete ERASE")
    say(deps, BOB, "/forgetme delete ERASE")
    shown = say(deps, "Carla@Bilbao City Council", "/peer audit").splitlines()
    assert shown[1:] == [
        "2026-03-02 09:00 · A person's data erased (posts: delete) by that person (/forgetme)",
        "2026-03-02 09:00 · A person's data erased (posts: delete) by that person (/forgetme)",
        "2026-03-02 09:00 · Role facilitator given to a person since erased by a facilitator since erased",
    ]


def test_an_empty_log_says_so(deps: Deps) -> None:
    assert say(deps, ANA, "/peer audit") == "Nothing in the audit log yet."


def _slack_facilitator(team: str) -> Sender:
    return Sender(
        platform="slack", workspace=team, user_id=f"UF{team}", display_name=f"Fac {team}", is_platform_admin=True
    )


def _slack(deps: Deps, sender: Sender, text: str) -> str:
    chat = Address(platform="slack", workspace=sender.workspace, chat="C1")
    replies = Conversations(deps).handle(Incoming(sender=sender, chat=chat, text=text, is_private=False))
    return "\n".join(reply.text for reply in replies)


def test_a_link_brings_the_joining_workspaces_log_along(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        alpha = partnerships.own_community(session, platform="slack", external_id="TA", name="Alpha").id
        beta = partnerships.own_community(session, platform="slack", external_id="TB", name="Beta").id
    _slack(deps, _slack_facilitator("TB"), "/peer export")  # Beta's history, before joining
    _slack(deps, _slack_facilitator("TA"), "/peer link")
    with deps.sessions() as session:
        code = session.exec(select(PartnershipCode)).one().code
    assert "Alpha" in _slack(deps, _slack_facilitator("TB"), f"/peer link {code}")
    with deps.sessions() as session:
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.id)).all()  # type: ignore[arg-type]
        assert session.get(Community, beta) is None
    assert [(e.action, e.community_id) for e in entries] == [("export", alpha), ("link_code", alpha), ("link", alpha)]
    lines = _slack(deps, _slack_facilitator("TA"), "/peer audit").splitlines()
    assert lines[1:] == [
        "2026-03-02 09:00 · Another workspace linked into this partnership (members: 1) by Fac TB",
        "2026-03-02 09:00 · Partnership link code created by Fac TA",
        "2026-03-02 09:00 · Posts exported (rows: 0) by Fac TB",
    ]


def test_a_command_line_export_is_recorded(deps: Deps) -> None:
    result = CliRunner().invoke(cli, ["export", "--format", "csv"], obj={"deps": deps})
    assert result.exit_code == 0, result.output
    assert say(deps, ANA, "/peer audit").splitlines()[1:] == [
        "2026-03-02 09:00 · Posts exported (rows: 0) by the command line"
    ]
