"""One `MatchCard` for every rendering: `/matches` in a conversation, Slack's App Home, the digest,
Slack message blocks and Telegram's inline keyboard show the same facts and the same answers."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot import digests
from bot.deps import Deps
from bot.home import home
from bot.members import resolve
from bot.ports import Address, Incoming, Reply, Sender
from handlers.application.conversation import Conversations
from handlers.slack.app_home import home_view
from handlers.slack.blocks import message
from handlers.telegram.render import keyboard
from storage.db import transaction
from storage.models import Delivery, Match, MatchRound, Member, Organisation, Post, PostKind
from storage.queries import default_community

ANA = Sender(platform="slack", workspace="T1", user_id="UANA", display_name="Ana", organisation="Bilbao City Council")
BOB = Sender(platform="slack", workspace="T1", user_id="UBOB", display_name="Bob", organisation="Dublin City Council")
FAY = Sender(platform="slack", workspace="T1", user_id="UFAY", display_name="Fay", is_platform_admin=True)
CHANNEL = Address(platform="slack", workspace="T1", chat="CPEERS")
NEED, OFFER = "Social clauses in tenders", "Catering tender pilot"


def _say(deps: Deps, sender: Sender, text: str, chat: Address | None = None) -> list[Reply]:
    chat = chat or Address(platform="slack", workspace="T1", chat=sender.user_id)
    return Conversations(deps).handle(
        Incoming(sender=sender, chat=chat, text=text, is_private=chat.chat == sender.user_id)
    )


def _round_with_one_match(deps: Deps) -> int:
    for sender in (ANA, BOB):
        _say(deps, sender, "/help")
    with transaction(deps.sessions) as session:
        members = {m.display_name: m for m in session.exec(select(Member)).all()}
        posts = []
        for name, kind, title in (("Ana", PostKind.need, NEED), ("Bob", PostKind.offer, OFFER)):
            member = members[name]
            assert member.organisation_id is not None
            post = Post(
                community_id=member.community_id,
                organisation_id=member.organisation_id,
                member_id=member.id,
                ref=title[:8],
                kind=kind,
                title=title,
                description=title,
            )
            session.add(post)
            posts.append(post)
        match_round = MatchRound(community_id=members["Ana"].community_id, created_at=deps.clock.now())
        session.add(match_round)
        session.flush()
        match = Match(
            community_id=match_round.community_id,
            round_id=match_round.id,
            need_id=posts[0].id or 0,
            offer_id=posts[1].id or 0,
            score=0.8,
            reasons=["topic:public-procurement", "term:clause"],
        )
        session.add(match)
        session.flush()
        assert match.id is not None
        return match.id


def _facts(number: int) -> list[str]:
    return [
        f"#{number}",
        NEED,
        OFFER,
        "Dublin City Council",
        "80%",
        "Shared topics: Public procurement; Key terms: clause",
    ]


def _block_texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(block["text"]["text"] for block in blocks if block["type"] == "section")


def _block_buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["text"]["text"], e["value"]) for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_matches_app_home_and_digest_show_the_same_card(deps: Deps) -> None:
    number = _round_with_one_match(deps)
    [listing] = _say(deps, ANA, "/matches")
    with transaction(deps.sessions) as session:
        view = home_view(home(session, resolve(session, ANA), deps.clock.now()))
    home_text = _block_texts(view["blocks"])
    _say(deps, FAY, "/peer channel here", CHANNEL)
    with transaction(deps.sessions) as session:
        community = default_community(session=session)
        assert digests.plan_digest_now(session, community, now=deps.clock.now(), run_round=None) == 1
        [digest] = session.exec(select(Delivery).where(Delivery.kind == "digest")).all()
    for fact in _facts(number):
        assert fact in listing.text
        assert fact in home_text
        assert fact in digest.payload["text"]
        dublin = session.exec(select(Organisation).where(Organisation.name == "Dublin City Council")).one()
    answers = [f"/accept {number}", f"/decline {number}", f"/block {dublin.id}"]
    assert [value for _, value in _block_buttons(view["blocks"])][-3:] == answers
    assert [button.value for button in listing.buttons] == answers
    assert [button["value"] for button in digest.payload["buttons"]] == [f"/accept {number}"]


def test_slack_blocks_and_telegram_keyboard_render_the_same_card(deps: Deps) -> None:
    number = _round_with_one_match(deps)
    [listing] = _say(deps, BOB, "/matches")
    blocks = message(listing)["blocks"]
    markup = keyboard(listing)
    assert markup is not None
    telegram = [(button.text, button.callback_data) for row in markup.inline_keyboard for button in row]
    assert telegram == _block_buttons(blocks)
    assert telegram[0] == (f"Accept #{number}", f"/accept {number}")
    assert "Not again: Bilbao City Council" in [label for label, _ in telegram]
    for fact in [f"#{number}", NEED, OFFER, "Bilbao City Council", "80%"]:
        assert fact in _block_texts(blocks)
