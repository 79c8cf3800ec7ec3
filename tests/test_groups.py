"""Peer working groups: 3-6 organisations around shared topics, everyone placed or told why."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.deps import Deps
from bot.groups import LeftOutReason, ProposedGroup, _Graph, _place_small, parse_size, propose_groups, save_groups
from bot.matching.evaluation import LabelledSet, load
from bot.topics import label
from storage.db import transaction
from storage.models import Organisation, Post, PostStatus, WorkingGroup, WorkingGroupMember
from tests.test_matching_support import HOUSING_OFFER, PROCUREMENT_NEED, PROCUREMENT_OFFER, UNRELATED_NEED, World

EVAL_SET = Path(__file__).parent / "data" / "matching_eval.json"


def test_groups_over_a_multilingual_community(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        world = World(session)
        load(session, world.community_id, LabelledSet.read(EVAL_SET))
        proposal = propose_groups(session, deps.matcher, world.community_id, min_size=3, max_size=6)
        with_posts = set(
            session.exec(
                select(Organisation.name)
                .join(Post, col(Post.organisation_id) == Organisation.id)
                .where(Post.status == PostStatus.open)
            ).all()
        )
    placed = [member.name for group in proposal.groups for member in group.members]
    left = [item.member.name for item in proposal.left_out]
    assert len(placed) == len(set(placed)), "an organisation is in at most one group"
    assert set(placed).isdisjoint(left)
    assert set(placed) | set(left) == with_posts, "everyone is placed or told why not"
    assert len(proposal.groups) >= 5
    assert len(placed) > len(left)
    for group in proposal.groups:
        assert 3 <= len(group.members) <= 6
        assert group.topic
        assert group.pairs
        assert len(group.reasons("nl")) >= 2
        _assert_the_name_and_counts_agree_with_the_members(group)
        in_pairs = {name for pair in group.pairs for name in (pair.need_organisation, pair.offer_organisation)}
        assert in_pairs == {member.name for member in group.members}, "every member is shown with its reason"
    assert sum(group.named_after_topic for group in proposal.groups) >= 3
    assert all(item.explain("fr", min_size=3) for item in proposal.left_out)


def _assert_the_name_and_counts_agree_with_the_members(group: ProposedGroup) -> None:
    """A topic names a group only when most members have a pair on it, and the count said beside the
    member list is out of that list ("2 of the 3 members meet on ...")."""
    topic = label(group.topic, "en")
    total = len(group.members)
    assert 0 < group.topic_members <= total
    if group.named_after_topic:
        assert group.name("en").startswith(f"Working group: {topic}")
        assert 2 * group.topic_members > total
    else:
        assert group.name("en") == f"Working group around {group.members[0].name}"
    if group.topic_members == total:
        assert group.reasons("en")[0] == f"{total} members meet on {topic}"
    else:
        assert group.reasons("en")[0] == f"{group.topic_members} of the {total} members meet on {topic}"


def test_reasons_for_those_left_out_and_saving(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        world = World(session)
        world.need("n-gdl", "Guadalajara", *PROCUREMENT_NEED, language="es")
        world.need("n-lim", "Lima", *PROCUREMENT_NEED, language="es")
        world.offer("o-dub", "Dublin", *PROCUREMENT_OFFER)
        world.offer("o-cork", "Cork", *PROCUREMENT_OFFER)
        world.need("n-choir", "Choir", *UNRELATED_NEED)
        world.offer("o-vie", "Vienna", *HOUSING_OFFER)
        world.offer("o-gone", "Gone", *PROCUREMENT_OFFER, status=PostStatus.withdrawn)
        proposal = propose_groups(session, deps.matcher, world.community_id, min_size=3, max_size=4)
        [group] = proposal.groups
        saved = save_groups(session, proposal, language="it")
        members = session.exec(select(WorkingGroupMember.organisation_id)).all()
        stored = session.exec(select(WorkingGroup)).one()
    assert {m.name for m in group.members} == {"Guadalajara", "Lima", "Dublin", "Cork"}
    assert group.topic == "public-procurement"
    assert group.reasons("en")[0] == "4 members meet on Public procurement"
    assert "needs “Compra pública con cláusulas sociales”" in group.reasons("en")[1]
    reasons = {item.member.name: item.reason for item in proposal.left_out}
    assert reasons["Choir"] == LeftOutReason.isolated
    assert "Gone" not in reasons, "only organisations with open posts take part"
    assert reasons.get("Vienna") in (None, LeftOutReason.isolated, LeftOutReason.groups_full)
    assert [row.id for row in saved] == [stored.id]
    assert stored.name == "Gruppo di lavoro: Appalti pubblici"
    assert stored.topic == "public-procurement"
    assert sorted(members) == sorted(m.organisation_id for m in group.members)


@pytest.mark.parametrize("order", [(4, 5), (5, 4)])
def test_an_organisation_tied_only_to_another_small_one_follows_it_into_a_group(order: tuple[int, int]) -> None:
    """4 is tied only to 5, and 5 to the group: whichever comes first, both are placed."""
    built = _Graph()
    built.graph.add_weighted_edges_from([(1, 2, 0.5), (2, 3, 0.5), (1, 3, 0.4), (3, 5, 0.2), (4, 5, 0.3)])
    part = dict.fromkeys(order)  # insertion order decides the order the set iterates in
    groups, left = _place_small(built, [{1, 2, 3}], [set(part)], 3, 6)
    assert groups == [{1, 2, 3, 4, 5}]
    assert left == {}
    groups, left = _place_small(built, [{1, 2, 3}], [set(part)], 3, 4)
    assert groups == [{1, 2, 3, 5}]
    assert left == {4: LeftOutReason.groups_full}, "tied to the group through 5, which filled it"


@pytest.mark.parametrize(("text", "sizes"), [("3-6", (3, 6)), (" 4 ", (4, 4)), ("2-3", (2, 3))])
def test_parse_size(text: str, sizes: tuple[int, int]) -> None:
    assert parse_size(text) == sizes


@pytest.mark.parametrize("text", ["6-3", "1-4", "three", "3-"])
def test_parse_size_refuses_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(text)
