"""Shared by the privacy tests on Slack and Telegram: a member with an organisation and a post."""

from __future__ import annotations

from bot.deps import Deps
from storage.db import transaction
from storage.models import Member, Organisation, Post, PostKind
from storage.queries import identity_of

TITLE = "Participatory budgeting with young people"


def give_a_post(deps: Deps, platform: str, workspace: str, user_id: str) -> int:
    with transaction(deps.sessions) as session:
        identity = identity_of(session=session, platform=platform, workspace=workspace, user_id=user_id)
        assert identity is not None
        member = session.get(Member, identity.member_id)
        assert member is not None
        organisation = Organisation(community_id=member.community_id, name="Câmara Municipal de Braga")
        session.add(organisation)
        session.flush()
        member.organisation_id = organisation.id
        post = Post(
            community_id=member.community_id,
            organisation_id=organisation.id or 0,
            member_id=member.id,
            ref="offer-braga",
            kind=PostKind.offer,
            title=TITLE,
            description="Twelve schools vote on a share of the city's budget.",
        )
        session.add(post)
        session.flush()
        return member.id or 0
