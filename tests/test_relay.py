"""The relay's rules through the real dispatcher: only the two sides may write or read it, it
closes on /block and after 60 quiet days (its messages deleted then), /mydata hands over what a
person wrote and read, /forgetme erases it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.deps import Deps
from bot.ports import Address, Incoming, Sender
from bot.relay import IDLE
from handlers.application.conversation import Conversations
from schedules.jobs import apply_retention
from storage.db import transaction
from storage.models import Delivery, Match, MatchStatus, Member, Organisation, Post, PostKind, RelayMessage, Role
from tests.conftest import FakeClock
from tests.test_privacy import ANA, BOB, NEED, OFFER, member_of, mydata, pair, say, write_post

CARLA = "Carla Soto@Lisbon Facilitation"


@pytest.fixture
def introduced(deps: Deps) -> int:
    """Ana's offer and Bob's need, introduced."""
    offer = write_post(deps, ANA, "offer", *OFFER)
    need = write_post(deps, BOB, "need", *NEED)
    return pair(deps, need, offer, MatchStatus.introduced)


def relayed(deps: Deps) -> list[RelayMessage]:
    with deps.sessions() as session:
        return list(session.exec(select(RelayMessage)).all())


def test_only_the_two_sides_write_and_read(deps: Deps, introduced: int) -> None:
    assert "Passed on to the other side" in say(deps, ANA, f"/reply {introduced} Hello Bob")
    say(deps, CARLA, "/help")
    with transaction(deps.sessions) as session:
        carla = member_of(deps, CARLA)
        assert carla is not None
        carla.role = Role.facilitator
        session.add(carla)
    assert "not about your offers or needs" in say(deps, CARLA, f"/reply {introduced} Let me see")
    assert "not about your offers or needs" in say(deps, CARLA, f"/close {introduced}")
    assert mydata(deps, CARLA)["relayed_messages"] == []  # a facilitator reads none of it
    [bobs] = mydata(deps, BOB)["relayed_messages"]
    assert (bobs["text"], bobs["written_by"]) == ("Hello Bob", "the other side")
    [anas] = mydata(deps, ANA)["relayed_messages"]
    assert anas["written_by"] == "me"
    assert "Write /reply followed by the number" in say(deps, ANA, "/reply")
    assert "Write /reply followed by the number" in say(deps, ANA, f"/reply {introduced}")
    assert "has not been introduced yet" in say(deps, ANA, f"/reply {pair_suggested(deps)} hi")


def pair_suggested(deps: Deps) -> int:
    offer = write_post(deps, ANA, "offer", "Another offer about tenders", "Something else about tenders.")
    need = write_post(deps, BOB, "need", "Another need about tenders", "Something more about tenders.")
    return pair(deps, need, offer)


def test_a_block_closes_the_relay_and_deletes_what_was_written(deps: Deps, introduced: int) -> None:
    say(deps, ANA, f"/reply {introduced} Hello Bob")
    with deps.sessions() as session:
        warsaw = session.exec(select(Organisation).where(Organisation.name == "Warsaw City Hall")).one()
    say(deps, ANA, f"/block {warsaw.id}")
    assert relayed(deps) == []
    assert "is closed" in say(deps, BOB, f"/reply {introduced} Are you there?")


def test_sixty_quiet_days_close_the_relay(deps: Deps, introduced: int, clock: FakeClock) -> None:
    say(deps, ANA, f"/reply {introduced} Hello Bob")
    clock.advance(seconds=(IDLE - timedelta(days=1)).total_seconds())
    apply_retention(deps)
    assert len(relayed(deps)) == 1  # not yet
    assert "Passed on" in say(deps, BOB, f"/reply {introduced} Still here")  # and the 60 days start again
    clock.advance(seconds=(IDLE + timedelta(days=1)).total_seconds())
    apply_retention(deps)
    assert relayed(deps) == []
    with deps.sessions() as session:
        match = session.get(Match, introduced)
        assert match is not None
        assert match.relay_closed_at is not None
        sent = session.exec(select(Delivery).where(Delivery.kind == "relay")).all()
    assert all(row.status.value == "pending" for row in sent)  # not sent yet: they still go, once
    assert "is closed" in say(deps, BOB, f"/reply {introduced} Hello?")


def test_forgetme_erases_the_relayed_messages(deps: Deps, introduced: int) -> None:
    say(deps, ANA, f"/reply {introduced} Hello Bob")
    say(deps, BOB, f"/reply {introduced} Hello Ana")
    say(deps, BOB, "/forgetme delete ERASE")
    assert relayed(deps) == []


def _incoming(deps: Deps, sender: Sender, text: str, reply_to: str | None = None) -> list[str]:
    chat = Address(platform=sender.platform, workspace=sender.workspace, chat=f"D{sender.user_id}")
    replies = Conversations(deps).handle(Incoming(sender=sender, chat=chat, text=text, reply_to=reply_to))
    return [reply.text for reply in replies]


def test_slack_people_of_two_workspaces_answer_in_threads(deps: Deps) -> None:
    ana = Sender(platform="slack", workspace="T1", user_id="UANA", display_name="Ana", organisation="Bilbao")
    bob = Sender(platform="slack", workspace="T2", user_id="UBOB", display_name="Bob", organisation="Dublin")
    for sender in (ana, bob):
        _incoming(deps, sender, "/help")
    with transaction(deps.sessions) as session:
        link = session.exec(select(Member)).all()
        assert len({member.community_id for member in link}) == 1  # one partnership across workspaces here
        posts = []
        for member, kind in zip(link, (PostKind.need, PostKind.offer), strict=True):
            post = Post(
                community_id=member.community_id,
                organisation_id=member.organisation_id or 0,
                member_id=member.id,
                ref=f"r-{kind.value}",
                kind=kind,
                title=f"A {kind.value}",
            )
            session.add(post)
            session.flush()
            posts.append(post)
        match = Match(community_id=posts[0].community_id, need_id=posts[0].id or 0, offer_id=posts[1].id or 0)
        session.add(match)
        session.flush()
        number = match.id
    _incoming(deps, ana, f"/accept {number}")
    _incoming(deps, bob, f"/accept {number}")
    with transaction(deps.sessions) as session:
        intros = session.exec(select(Delivery).where(Delivery.kind == "introduction")).all()
        assert sorted(row.workspace for row in intros) == ["T1", "T2"]  # no shared chat across workspaces
        for row in intros:  # what the outbox records once Slack accepted each: its ts
            row.message_id = f"17000000{row.workspace[-1]}.000100"
            session.add(row)
    assert "reply in this message's thread" in next(row.payload["text"] for row in intros if row.workspace == "T2")
    # Bob answers in the thread of his introduction; a reply to anything else is an ordinary message.
    assert _incoming(deps, bob, "Hello from Dublin", reply_to="170000002.000100") == [
        f"Passed on to the other side of #{number}."
    ]
    assert _incoming(deps, bob, "Hello again", reply_to="170000001.000100") != [
        f"Passed on to the other side of #{number}."
    ]
    with deps.sessions() as session:
        [relayed_row] = session.exec(select(Delivery).where(Delivery.kind == "relay")).all()
    assert (relayed_row.workspace, relayed_row.chat) == ("T1", "UANA")
    assert relayed_row.payload["text"].startswith(f"Bob (Dublin) writes about #{number}:\nHello from Dublin")


def test_the_introduction_shows_the_contact_each_side_chose(deps: Deps) -> None:
    from bot.matches import introduce
    from bot.reach import ReachKind, reach

    offer = write_post(deps, ANA, "offer", *OFFER)
    need = write_post(deps, BOB, "need", *NEED)
    say(deps, ANA, "/contact ana@bilbao.example")
    say(deps, BOB, "/contact peerlink")
    match_id = pair(deps, need, offer, MatchStatus.accepted)
    with transaction(deps.sessions) as session:
        ana, bob = member_of(deps, ANA), member_of(deps, BOB)
        assert ana is not None
        assert bob is not None
        # the one rule: an e-mail is shown; "only through Peerlink" always means the relay
        assert reach(session, offer, ana, shared=False).value == "ana@bilbao.example"
        assert reach(session, need, bob, shared=True).kind is ReachKind.relay
        match = session.get(Match, match_id)
        assert match is not None
        introduce(session, match, now=deps.clock.now())
    with deps.sessions() as session:
        payloads = [row.payload for row in session.exec(select(Delivery)).all()]
    to_bob = next(payload for payload in payloads if "Meet Ana" in payload["text"])
    assert "ana@bilbao.example" in to_bob["text"]
    to_ana = next(payload for payload in payloads if "Meet Bob" in payload["text"])
    assert "through Peerlink" in to_ana["text"]
    # Both write from the same place (one terminal's workspace): Ana is named as someone Bob can reach
    # there, in a value the adapter renders; Bob, who chose "only through Peerlink", is not.
    [(start, end, _)] = to_bob["mentions"]
    assert to_bob["text"][start:end] == "Ana Ruiz"
    assert "mentions" not in to_ana
