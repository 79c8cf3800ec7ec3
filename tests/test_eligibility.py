"""What may be suggested is one rule (`bot.matching.eligibility`): the round preview, the posted round,
the digest, instant suggestions and `peerlink match --record` all give the pairs it allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import Session, col, select

from bot.deps import Deps
from bot.matching.eligibility import Refusal, community_barriers, refusal
from bot.ports import Address, Incoming, Sender
from bot.runtime.cli import cli
from handlers.application.conversation import Conversations
from storage.db import make_engine, session_factory, transaction
from storage.models import Delivery, Match, OrganisationBlock, Post, PostStatus
from tests.test_matching_support import World

FACILITATOR = Sender(platform="slack", workspace="T1", user_id="UFAC", display_name="Fay", is_platform_admin=True)
CHANNEL = Address(platform="slack", workspace="T1", chat="CPEERS")
ABOUT = "Social clauses in public procurement reserve tender contracts for social enterprises and cooperatives."
NEEDS = {"Alpha": "Need Alpha", "Fox": "Need Foxtrot", "Golf": "Need Golf"}
OFFERS = {"Bravo": "Offer Bravo", "Charlie": "Offer Charlie", "Delta": "Offer Delta", "Echo": "Offer Echo"}
OFFERS |= {"Hotel": "Offer Hotel"}
# Fox and Charlie are paused, Alpha blocked Delta, Hotel blocked Alpha, Echo's offer is withdrawn.
ALLOWED = {
    ("Need Alpha", "Offer Bravo"),
    ("Need Golf", "Offer Bravo"),
    ("Need Golf", "Offer Delta"),
    ("Need Golf", "Offer Hotel"),
}


def _community(session: Session, now: datetime) -> World:
    world = World(session)
    for organisation, title in NEEDS.items():
        world.need(title, organisation, title, ABOUT)
    for organisation, title in OFFERS.items():
        status = PostStatus.withdrawn if organisation == "Echo" else PostStatus.open
        world.offer(title, organisation, title, ABOUT, status=status)
    for paused in ("Fox", "Charlie"):
        world.members[paused].paused_until = now + timedelta(days=30)
        session.add(world.members[paused])
    for member, organisation in (("Alpha", "Delta"), ("Hotel", "Alpha")):
        blocked = world.organisations[organisation].id
        session.add(OrganisationBlock(member_id=world.members[member].id, blocked_organisation_id=blocked))
    session.flush()
    return world


def _say(deps: Deps, text: str) -> str:
    incoming = Incoming(sender=FACILITATOR, chat=CHANNEL, text=text, is_private=False)
    return "\n".join(reply.text for reply in Conversations(deps).handle(incoming))


def _pairs_in(text: str) -> set[tuple[str, str]]:
    """The (need, offer) title pairs shown on one line of a message."""
    lines = text.splitlines()
    return {(n, o) for n in NEEDS.values() for o in OFFERS.values() if any(n in line and o in line for line in lines)}


def _recorded(session: Session) -> set[tuple[str, str]]:
    matches = session.exec(select(Match).where(col(Match.round_id).is_not(None))).all()
    titles = {post.id: post.title for post in session.exec(select(Post)).all()}
    return {(titles[match.need_id], titles[match.offer_id]) for match in matches}


def test_the_rule_allows_exactly_these_pairs(deps: Deps) -> None:
    now = deps.clock.now()
    with transaction(deps.sessions) as session:
        world = _community(session, now)
        barriers = community_barriers(session, world.community_id, now)
        posts = world.posts
        allowed = {
            (need, offer)
            for need in NEEDS.values()
            for offer in OFFERS.values()
            if refusal(posts[need], posts[offer], barriers) is None
        }
        assert refusal(posts["Need Foxtrot"], posts["Offer Bravo"], barriers) == Refusal.paused
        assert refusal(posts["Need Alpha"], posts["Offer Charlie"], barriers) == Refusal.paused
        assert refusal(posts["Need Alpha"], posts["Offer Delta"], barriers) == Refusal.blocked
        assert refusal(posts["Need Alpha"], posts["Offer Hotel"], barriers) == Refusal.blocked
        assert refusal(posts["Need Golf"], posts["Offer Echo"], barriers) == Refusal.closed
    assert allowed == ALLOWED


def test_preview_posted_round_and_digest_give_the_same_pairs(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        _community(session, deps.clock.now())
    preview = _pairs_in(_say(deps, "/peer match preview"))
    _say(deps, "/peer channel here")
    assert "1" in _say(deps, "/peer match post")
    with deps.sessions() as session:
        posted = _recorded(session)
        [digest] = session.exec(select(Delivery).where(Delivery.kind == "digest")).all()
    assert preview == ALLOWED
    assert posted == ALLOWED
    assert _pairs_in(digest.payload["text"]) == ALLOWED


def test_instant_suggestions_follow_the_rule(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        world = _community(session, deps.clock.now())
        found = {
            (suggestion.need.title, suggestion.offer.title)
            for post in world.posts.values()
            for suggestion in deps.matcher.suggest(session, post, k=10)
        }
    assert found == ALLOWED


def test_a_digest_leaves_out_a_pair_paused_after_the_round(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        world = _community(session, deps.clock.now())
        world.members["Golf"].paused_until = deps.clock.now() + timedelta(days=3)
        session.add(world.members["Golf"])
    _say(deps, "/peer channel here")
    _say(deps, "/peer match post")
    with deps.sessions() as session:
        [digest] = session.exec(select(Delivery).where(Delivery.kind == "digest")).all()
    assert _pairs_in(digest.payload["text"]) == {("Need Alpha", "Offer Bravo")}


@pytest.fixture
def paused_community(sqlite_url: str) -> str:
    """The CLI runs on the system clock: pause until a moment ahead of it."""
    engine = make_engine(sqlite_url)
    with transaction(session_factory(engine)) as session:
        _community(session, datetime.now(UTC))
    engine.dispose()
    return sqlite_url


def test_match_record_leaves_out_paused_authors(paused_community: str) -> None:
    result = CliRunner().invoke(cli, ["match", "--record"], obj={}, env={"DATABASE_URL": paused_community})
    assert result.exit_code == 0, result.stderr
    assert "Need Foxtrot" not in result.stdout  # paused need: not in the round at all
    assert "Offer Charlie" not in result.stdout  # paused offer
    engine = make_engine(paused_community)
    with session_factory(engine)() as session:
        assert _recorded(session) == ALLOWED
    engine.dispose()
