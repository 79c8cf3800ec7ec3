"""The matcher's rules, reasons and bookkeeping, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, col, func, select

from bot.deps import Deps
from bot.matching import Matcher, MatchingConfig, UnmatchedReason, render_stored
from storage.db import transaction
from storage.models import Match, MatchRound, MatchStatus, OrganisationBlock, Post, PostStatus
from storage.types import utcnow
from tests.test_matching_support import HOUSING_OFFER, PROCUREMENT_NEED, PROCUREMENT_OFFER, UNRELATED_NEED, World


def _procurement(world: World) -> None:
    world.need("n-gdl", "Guadalajara", *PROCUREMENT_NEED, language="es")
    world.offer("o-dub", "Dublin", *PROCUREMENT_OFFER)
    world.offer("o-vie", "Vienna", *HOUSING_OFFER)


def _offers_of(matcher: Matcher, session: Session, world: World, need: str, k: int = 3) -> list[str]:
    return [s.offer.ref for s in matcher.suggest(session, world.posts[need], k=k)]


def test_a_spanish_need_meets_an_english_offer_with_reasons(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        world = World(session)
        _procurement(world)
        [best, *_] = deps.matcher.suggest(session, world.posts["n-gdl"])
    assert best.offer.ref == "o-dub"
    assert 0.0 < best.score <= 1.0
    assert "public-procurement" in best.shared_topics
    assert best.key_terms, "the pair shares words (social, cláusulas/clauses...)"
    assert best.reasons("pl")[0].startswith("Wspólne tematy: Zamówienia publiczne")
    assert best.reasons("fr")[0].startswith("Thèmes communs : Commande publique")
    assert render_stored(best.stored_reasons(), "it") == best.reasons("it")


def test_an_offer_gets_needs_and_never_its_own_organisation(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        world = World(session)
        _procurement(world)
        world.need("n-dub", "Dublin", "Public procurement with social clauses", PROCUREMENT_OFFER[1])
        needs = [s.need.ref for s in deps.matcher.suggest(session, world.posts["o-dub"])]
        offers = _offers_of(deps.matcher, session, world, "n-dub")
        result = deps.matcher.run_round(session, world.community_id)
    assert needs == ["n-gdl"]
    assert "o-dub" not in offers
    assert all(s.need.organisation_id != s.offer.organisation_id for s in result.suggestions)


@pytest.mark.parametrize(
    ("status", "suggested_again"),
    [
        (MatchStatus.declined, False),
        (MatchStatus.accepted, False),
        (MatchStatus.introduced, False),
        (MatchStatus.met, False),
        (MatchStatus.not_useful, False),
        (MatchStatus.suggested, True),
    ],
)
def test_settled_pairs_are_not_suggested_again(deps: Deps, status: MatchStatus, suggested_again: bool) -> None:
    with transaction(deps.sessions) as session:
        world = World(session)
        _procurement(world)
        need, offer = world.posts["n-gdl"], world.posts["o-dub"]
        assert need.id is not None
        assert offer.id is not None
        session.add(Match(community_id=world.community_id, need_id=need.id, offer_id=offer.id, status=status))
        session.flush()
        offers = _offers_of(deps.matcher, session, world, "n-gdl")
        needs = [s.need.ref for s in deps.matcher.suggest(session, offer)]
        rounds = [s.offer.ref for s in deps.matcher.run_round(session, world.community_id).suggestions]
    assert ("o-dub" in offers) is suggested_again
    assert ("n-gdl" in needs) is suggested_again
    assert ("o-dub" in rounds) is suggested_again


def test_a_blocked_organisation_is_not_suggested_either_way(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        world = World(session)
        world.need("n-gdl", "Guadalajara", *PROCUREMENT_NEED, language="es")
        world.offer("o-dub", "Dublin", *PROCUREMENT_OFFER)
        session.add(
            OrganisationBlock(
                member_id=world.members["Guadalajara"].id, blocked_organisation_id=world.organisations["Dublin"].id
            )
        )
        session.flush()
        offers = _offers_of(deps.matcher, session, world, "n-gdl")
        needs = [s.need.ref for s in deps.matcher.suggest(session, world.posts["o-dub"])]
        result = deps.matcher.run_round(session, world.community_id)
    assert "o-dub" not in offers
    assert needs == []
    assert [(u.need.ref, u.reason) for u in result.unmatched] == [("n-gdl", UnmatchedReason.blocked)]


@pytest.mark.parametrize("status", [PostStatus.closed, PostStatus.withdrawn, PostStatus.matched])
def test_only_open_posts_take_part(deps: Deps, status: PostStatus) -> None:
    with transaction(deps.sessions) as session:
        world = World(session)
        _procurement(world)
        world.offer("o-closed", "Lyon", *PROCUREMENT_OFFER, status=status)
        world.need("n-closed", "Porto", *PROCUREMENT_NEED, language="es", status=status)
        offers = _offers_of(deps.matcher, session, world, "n-gdl")
        result = deps.matcher.run_round(session, world.community_id)
        assert deps.matcher.suggest(session, world.posts["n-closed"]) == []
    assert "o-closed" not in offers
    assert {s.need.ref for s in result.suggestions} | {u.need.ref for u in result.unmatched} == {"n-gdl"}


def test_an_offer_past_its_end_date_is_not_suggested(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        world = World(session)
        _procurement(world)
        offer = world.posts["o-dub"]
        offer.available_until, offer.updated_at = date(2026, 3, 1), utcnow()  # the FakeClock says 2 March
        session.add(offer)
        session.flush()
        assert "o-dub" not in _offers_of(deps.matcher, session, world, "n-gdl")


def test_capacity_spreads_a_popular_offer(deps: Deps) -> None:
    matcher = Matcher(MatchingConfig(capacity=2), clock=deps.clock)
    with transaction(deps.sessions) as session:
        world = World(session)
        world.offer("o-dub", "Dublin", *PROCUREMENT_OFFER)
        for city in ("Lima", "Quito", "Cali", "Bogotá"):
            world.need(f"n-{city}", city, *PROCUREMENT_NEED, language="es")
        result = matcher.run_round(session, world.community_id, top_k=3)
    assert len(result.suggestions) == 2
    assert {u.reason for u in result.unmatched} == {UnmatchedReason.capacity}
    assert len(result.unmatched) == 2
    assert "2" in result.explain(result.unmatched[0], "en")


def test_nobody_is_silently_dropped(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        world = World(session)
        empty = deps.matcher.run_round(session, world.community_id)
        world.need("n-choir", "Lima", *UNRELATED_NEED)
        world.need("n-own", "Dublin", *PROCUREMENT_NEED, language="es")
        lonely = deps.matcher.run_round(session, world.community_id)
        world.offer("o-dub", "Dublin", *PROCUREMENT_OFFER)
        world.need("n-gdl", "Guadalajara", *PROCUREMENT_NEED, language="es")
        result = deps.matcher.run_round(session, world.community_id)
    assert empty.suggestions == []
    assert empty.unmatched == []
    assert {u.need.ref: u.reason for u in lonely.unmatched} == {
        "n-choir": UnmatchedReason.no_offers,
        "n-own": UnmatchedReason.no_offers,
    }
    assert [s.need.ref for s in result.suggestions] == ["n-gdl"]
    reasons = {u.need.ref: u for u in result.unmatched}
    assert reasons["n-choir"].reason == UnmatchedReason.below_threshold
    assert reasons["n-own"].reason == UnmatchedReason.same_organisation
    assert "minimum" in result.explain(reasons["n-choir"], "en")
    assert result.explain(reasons["n-own"], "es") == "Las únicas ofertas cercanas son de la misma organización."


def test_already_handled_pairs_are_named_as_the_reason(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        world = World(session)
        world.need("n-gdl", "Guadalajara", *PROCUREMENT_NEED, language="es")
        world.offer("o-dub", "Dublin", *PROCUREMENT_OFFER)
        need, offer = world.posts["n-gdl"], world.posts["o-dub"]
        assert need.id is not None
        assert offer.id is not None
        session.add(
            Match(community_id=world.community_id, need_id=need.id, offer_id=offer.id, status=MatchStatus.declined)
        )
        session.flush()
        result = deps.matcher.run_round(session, world.community_id)
    assert [(u.need.ref, u.reason) for u in result.unmatched] == [("n-gdl", UnmatchedReason.already_handled)]


def test_the_minimum_score_is_a_rule(deps: Deps) -> None:
    strict = Matcher(MatchingConfig(min_score=0.99), clock=deps.clock)
    with transaction(deps.sessions) as session:
        world = World(session)
        _procurement(world)
        assert strict.suggest(session, world.posts["n-gdl"]) == []
        [unmatched] = strict.run_round(session, world.community_id).unmatched
    assert unmatched.reason == UnmatchedReason.below_threshold
    assert 0 < unmatched.best_score < 0.99


def _match_count(session: Session) -> int:
    return session.exec(select(func.count(col(Match.id)))).one()


def test_record_round_stores_each_pair_once(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        world = World(session)
        _procurement(world)
        world.need("n-lim", "Lima", *PROCUREMENT_NEED, language="es")
        result = deps.matcher.run_round(session, world.community_id)
        first = deps.matcher.record_round(session, result)
        again = deps.matcher.record_round(session, result)
        stored = _match_count(session)
        second = deps.matcher.record_round(session, deps.matcher.run_round(session, world.community_id))
        rounds = session.exec(select(func.count(col(MatchRound.id)))).one()
        rows = session.exec(select(Match).order_by(col(Match.id))).all()
        assert _match_count(session) == stored
    assert first.id == again.id
    assert second.id != first.id
    assert rounds == 2
    assert stored == len(result.suggestions) > 0
    assert all(row.round_id == first.id and row.status == MatchStatus.suggested for row in rows)
    assert any(reason.startswith("topic:") for reason in rows[0].reasons)


def test_the_index_follows_other_processes(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        world = World(session)
        world.need("n-gdl", "Guadalajara", *PROCUREMENT_NEED, language="es")
        world.offer("o-vie", "Vienna", *HOUSING_OFFER)
    with deps.sessions() as session:
        assert "o-dub" not in _offers_of(deps.matcher, session, world, "n-gdl")
    other = Deps(settings=deps.settings, engine=deps.engine, sessions=deps.sessions, clock=deps.clock)
    with transaction(other.sessions) as session:  # another process: its own matcher, same database
        writer = World(session)
        writer.offer("o-dub", "Dublin", *PROCUREMENT_OFFER)
    with deps.sessions() as session:
        assert _offers_of(deps.matcher, session, world, "n-gdl")[0] == "o-dub"
    with transaction(other.sessions) as session:
        post = session.exec(select(Post).where(Post.ref == "o-dub")).one()
        post.status, post.updated_at = PostStatus.withdrawn, utcnow()
        session.add(post)
    with deps.sessions() as session:
        assert "o-dub" not in _offers_of(deps.matcher, session, world, "n-gdl")
