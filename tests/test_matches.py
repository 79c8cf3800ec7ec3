"""Accept / decline / introduce, from both sides, through the dispatcher; introductions go to the outbox."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.deps import Deps
from bot.organisations import organisation_named
from bot.ports import Address, Incoming, Sender
from handlers.application.conversation import Conversations
from storage.models import Delivery, Match, MatchStatus, Member, Post, PostKind, Role
from storage.queries import default_community
from tests.membership_support import open_group

ANA = Sender(platform="slack", workspace="T1", user_id="UANA", display_name="Ana", organisation="Bilbao City Council")
BOB = Sender(platform="slack", workspace="T1", user_id="UBOB", display_name="Bob", organisation="Dublin City Council")
# Tom is in the partnership's registered Telegram group (the adapter asked Telegram; see `open_group`).
TOM = Sender(
    platform="telegram",
    workspace="777",
    user_id="42",
    display_name="Tom",
    organisation="Torino Social Hub",
    member_of=("-100777",),
)


@pytest.fixture(autouse=True)
def partnership_group(deps: Deps) -> None:
    open_group(deps, workspace="777", chat="-100777")


def say(deps: Deps, sender: Sender, text: str) -> str:
    chat = Address(platform=sender.platform, workspace=sender.workspace, chat=sender.user_id)
    replies = Conversations(deps).handle(Incoming(sender=sender, chat=chat, text=text))
    return "\n".join(reply.text for reply in replies)


def _post(session: Session, member: Member, kind: PostKind, title: str, topics: list[str]) -> Post:
    assert member.organisation_id is not None
    post = Post(
        community_id=member.community_id,
        organisation_id=member.organisation_id,
        member_id=member.id,
        ref=f"{kind.value}-{title[:8]}",
        kind=kind,
        title=title,
        description=title,
        topics=topics,
    )
    session.add(post)
    session.flush()
    return post


@pytest.fixture
def match_id(deps: Deps) -> int:
    """Ana needs what Bob offers; a suggested match between them."""
    for sender in (ANA, BOB, TOM):
        say(deps, sender, "/help")  # first contact creates the members
    with deps.sessions() as session:
        members = {m.display_name: m for m in session.exec(select(Member)).all()}
        need = _post(session, members["Ana"], PostKind.need, "Social clauses", ["public-procurement"])
        offer = _post(session, members["Bob"], PostKind.offer, "Catering tender pilot", ["public-procurement"])
        assert need.id is not None
        assert offer.id is not None
        match = Match(
            community_id=need.community_id,
            need_id=need.id,
            offer_id=offer.id,
            score=0.8,
            reasons=["topic:public-procurement", "term:clause"],
        )
        session.add(match)
        session.commit()
        assert match.id is not None
        return match.id


def deliveries(deps: Deps) -> list[Delivery]:
    with deps.sessions() as session:
        return list(session.exec(select(Delivery)).all())


def test_both_sides_accept_and_get_one_group_dm(deps: Deps, match_id: int) -> None:
    listing = say(deps, ANA, "/matches")
    assert f"#{match_id} · your “Social clauses” ↔ “Catering tender pilot” — Dublin City Council (80% match)" in listing
    assert "Shared topics: Public procurement; Key terms: clause" in listing
    assert "When the other side accepts" in say(deps, ANA, f"/accept {match_id}")
    assert deliveries(deps) == []
    assert "already been answered" not in say(deps, BOB, f"/accept {match_id}")
    [intro] = deliveries(deps)
    assert (intro.platform, intro.chat, intro.kind) == ("slack", "users:UANA,UBOB", "introduction")
    assert intro.payload["text"].splitlines() == [  # one chat for both: everyone named, neither side's view
        "Both sides said yes to #1. Let me introduce you!",
        "Meet Ana (Bilbao City Council). How to reach them: write here, in this conversation: you are both in it",
        "Meet Bob (Dublin City Council). How to reach them: write here, in this conversation: you are both in it",
        "“Social clauses” and “Catering tender pilot” fit together.",
        "Why: Shared topics: Public procurement; Key terms: clause",
        "Say hello and agree on a first call.",
    ]
    with deps.sessions() as session:
        match = session.get(Match, match_id)
        assert match is not None
        assert match.status == MatchStatus.introduced
        assert match.introduced_at == deps.clock.now()
    assert "already been answered" in say(deps, ANA, f"/accept {match_id}")


def test_decline_and_strangers(deps: Deps, match_id: int) -> None:
    assert "not about your offers or needs" in say(deps, TOM, f"/accept {match_id}")
    assert "can't find suggestion #999" in say(deps, ANA, "/accept 999")
    assert "Which one?" in say(deps, ANA, "/decline")
    assert "won't suggest this pair again" in say(deps, BOB, f"/decline {match_id}")
    assert "No suggestions for you" in say(deps, ANA, "/matches")
    assert deliveries(deps) == []


def test_a_facilitator_introduces_across_platforms(deps: Deps, match_id: int) -> None:
    assert "for facilitators" in say(deps, TOM, f"/peer introduce {match_id}")
    with deps.sessions() as session:
        tom = session.exec(select(Member).where(Member.display_name == "Tom")).one()
        tom.role = Role.facilitator
        bob = session.exec(select(Member).where(Member.display_name == "Bob")).one()
        # Bob's offer moves to a Telegram member: now each side is told on their own platform.
        offer = session.exec(select(Post).where(Post.kind == PostKind.offer)).one()
        torino = organisation_named(
            session, community_id=default_community(session=session).id or 0, name="Torino Social Hub"
        )
        offer.member_id, offer.organisation_id = tom.id, torino.id
        session.add_all([tom, bob, offer])
        session.commit()
    assert "I am introducing #1 now" in say(deps, TOM, f"/peer introduce {match_id}")
    sent = sorted((d.kind, d.platform, d.chat) for d in deliveries(deps))
    assert sent == [("introduction", "slack", "UANA"), ("introduction", "telegram", "42")]
    texts = {d.chat: d.payload["text"] for d in deliveries(deps)}
    assert texts["UANA"].splitlines()[:2] == [
        "Tom introduces you to each other (#1).",  # not "both sides said yes": nobody did
        "Meet Tom (Torino Social Hub). How to reach them: through Peerlink: reply in this message's thread "
        "and I pass it on (/close 1 ends the conversation)",
    ]
    assert "Meet Ana (Bilbao City Council)" in texts["42"]
    assert "through Peerlink: reply to this message and I pass it on" in texts["42"]
    assert "Their “Social clauses” and your “Catering tender pilot” fit together." in texts["42"]


def test_an_introduction_names_the_person_and_how_to_reach_them(deps: Deps, match_id: int) -> None:
    tom = Sender(platform="telegram", workspace="777", user_id="42", display_name="Tom", username="tom_torino")
    say(deps, tom, "/help")  # Telegram told us Tom's @username
    with deps.sessions() as session:
        tom_member = session.exec(select(Member).where(Member.display_name == "Tom")).one()
        offer = session.exec(select(Post).where(Post.kind == PostKind.offer)).one()
        assert tom_member.organisation_id is not None
        offer.member_id, offer.organisation_id = tom_member.id, tom_member.organisation_id
        session.add(offer)
        session.commit()
    say(deps, ANA, f"/accept {match_id}")
    assert "introducing you now" in say(deps, tom, f"/accept {match_id}")
    texts = {d.chat: d.payload["text"] for d in deliveries(deps)}
    assert texts["UANA"].splitlines()[:2] == [
        "Both sides said yes to #1. Let me introduce you!",
        "Meet Tom (Torino Social Hub). How to reach them: on Telegram, @tom_torino (https://t.me/tom_torino)",
    ]
    assert "Why: Shared topics: Public procurement; Key terms: clause" in texts["UANA"]
    # Ana has no handle Tom could use on Telegram: the relay carries their messages.
    assert "Meet Ana (Bilbao City Council). How to reach them: through Peerlink: reply to this" in texts["42"]


def test_an_imported_post_shows_its_contact_or_asks_the_facilitators(deps: Deps, match_id: int) -> None:
    with deps.sessions() as session:
        bob = session.exec(select(Member).where(Member.display_name == "Bob")).one()
        bob.role = Role.facilitator
        offer = session.exec(select(Post).where(Post.kind == PostKind.offer)).one()
        imported = organisation_named(session, community_id=offer.community_id, name="Habitar")
        offer.member_id, offer.organisation_id, offer.contact = None, imported.id, "hola@habitar.example"
        session.add_all([bob, offer])
        session.commit()
    assert "I am introducing #1 now" in say(deps, BOB, f"/peer introduce {match_id}")
    [intro] = deliveries(deps)  # nobody speaks for Habitar here: only Ana is told, with its contact
    assert "Meet Habitar. How to reach them: hola@habitar.example" in intro.payload["text"]
    with deps.sessions() as session:
        offer = session.exec(select(Post).where(Post.kind == PostKind.offer)).one()
        match = session.get(Match, match_id)
        assert match is not None
        offer.contact, match.status = None, MatchStatus.suggested
        session.add_all([offer, match])
        session.commit()
    for row in deliveries(deps):
        with deps.sessions() as session:
            session.delete(session.get(Delivery, row.id))
            session.commit()
    say(deps, BOB, f"/peer introduce {match_id}")
    [intro] = [d for d in deliveries(deps) if d.kind == "introduction"]
    assert "Meet Habitar. How to reach them: a facilitator will put you in touch" in intro.payload["text"]
    [notice] = [d for d in deliveries(deps) if d.kind == "notice"]
    assert notice.chat == "UBOB"
    assert "(Habitar) were introduced, but one side can only be reached through you" in notice.payload["text"]


def test_a_match_card_offers_to_stop_suggesting_that_organisation(deps: Deps, match_id: int) -> None:
    chat = Address(platform=ANA.platform, workspace=ANA.workspace, chat=ANA.user_id)
    [card] = Conversations(deps).handle(Incoming(sender=ANA, chat=chat, text="/matches"))
    values = [button.value for button in card.buttons]
    with deps.sessions() as session:
        offer = session.exec(select(Post).where(Post.kind == PostKind.offer)).one()
    assert values == [f"/accept {match_id}", f"/decline {match_id}", f"/block {offer.organisation_id}"]
    assert "Not again: Dublin City Council" in [button.label for button in card.buttons]
    assert "Dublin City Council" in say(deps, ANA, values[2])


def test_a_pair_the_rule_forbids_now_cannot_be_accepted_or_introduced(deps: Deps, match_id: int) -> None:
    with deps.sessions() as session:
        ana = session.exec(select(Member).where(Member.display_name == "Ana")).one()
        ana.role = Role.facilitator
        session.add(ana)
        session.commit()
    assert "paused" in say(deps, BOB, "/pause until 2026-04-01").lower()
    assert "No suggestions for you" in say(deps, ANA, "/matches")  # Bob is not put forward while paused
    assert "one side has paused suggestions" in say(deps, ANA, f"/accept {match_id}")
    assert "one side has paused suggestions" in say(deps, ANA, f"/peer introduce {match_id}")
    # Pausing withdrew the pending suggestion, and Ana was told it is no longer available.
    [notice] = deliveries(deps)
    assert (notice.kind, notice.chat) == ("withdrawn", "UANA")
    gone = "“Catering tender pilot” (Dublin City Council) is no longer available."
    assert notice.payload["text"] == f"#{match_id}: {gone}"
    say(deps, BOB, "/resume")
    assert "No suggestions for you" in say(deps, ANA, "/matches")
    assert "is no longer available" in say(deps, ANA, f"/accept {match_id}")
    say(deps, ANA, "/withdraw 1")
    assert "one of the two posts is closed" in say(deps, BOB, f"/accept {match_id}")
    assert [d.kind for d in deliveries(deps)] == ["withdrawn"]
    with deps.sessions() as session:
        match = session.get(Match, match_id)
        assert match is not None
        assert match.status == MatchStatus.withdrawn
