"""Invites (bot/invites.py): unguessable codes that fit a Telegram deep link, valid for a while."""

from __future__ import annotations

from datetime import timedelta

from bot import invites
from bot.deps import Deps
from bot.members import resolve
from bot.organisations import organisation_named
from bot.ports import Sender
from storage.db import transaction
from storage.models import Community
from storage.queries import default_community

NEWCOMER = Sender(platform="telegram", workspace="5550001", user_id="31", display_name="Chiara")


def test_codes_are_unguessable_and_fit_a_deep_link(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        community = default_community(session=session)
        assert community.id is not None
        codes = {invites.create(session, community.id, None, None).code for _ in range(50)}
    assert len(codes) == 50
    assert all(invites.CODE_SHAPE.match(code) for code in codes)
    assert all(len(code) <= 64 for code in codes)
    assert not invites.looks_like_code("offer")


def test_redeeming_joins_the_community_and_organisation(deps: Deps) -> None:
    now = deps.clock.now()
    with transaction(deps.sessions) as session:
        other = Community(name="Rete Torino")
        session.add(other)
        session.flush()
        assert other.id is not None
        organisation = organisation_named(session, community_id=other.id, name="Coop Aurora")
        code = invites.create(session, other.id, organisation.id, None, now=now).code
    with transaction(deps.sessions) as session:
        who = resolve(session, NEWCOMER)
        result = invites.redeem(session, who, code, now=now + timedelta(days=1))
        assert result.outcome is invites.Outcome.joined
        assert result.organisation is not None
        assert result.organisation.name == "Coop Aurora"
    with transaction(deps.sessions) as session:
        again = resolve(session, NEWCOMER)
        assert again.community.name == "Rete Torino"
        assert again.member.organisation_id == organisation.id


def test_expired_and_unknown_codes_change_nothing(deps: Deps) -> None:
    now = deps.clock.now()
    with transaction(deps.sessions) as session:
        community = default_community(session=session)
        assert community.id is not None
        code = invites.create(session, community.id, None, None, now=now, valid_for=timedelta(days=1)).code
    with transaction(deps.sessions) as session:
        who = resolve(session, NEWCOMER)
        late = invites.redeem(session, who, code, now=now + timedelta(days=2))
        assert late.outcome is invites.Outcome.expired
        assert invites.redeem(session, who, "x" * 22, now=now).outcome is invites.Outcome.unknown
        assert invites.redeem(session, who, "<script>", now=now).outcome is invites.Outcome.unknown
        assert who.member.organisation_id is None
