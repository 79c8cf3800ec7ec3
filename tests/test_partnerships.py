"""Partnerships across workspaces: a community per installed workspace, one-time link codes, and
merging two communities' data without breaking a unique key; plus which homes go stale."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from bot import partnerships
from bot.deps import Deps
from bot.home import take_stale, watch
from bot.i18n import translator
from bot.ports import Address, Incoming, Sender
from handlers.application.conversation import Conversations
from storage.db import transaction
from storage.models import (
    Channel,
    Community,
    Delivery,
    Invite,
    Match,
    MatchRound,
    Meeting,
    Member,
    Organisation,
    OrganisationBlock,
    ParkedDraft,
    PartnershipCode,
    Post,
    PostKind,
    Rsvp,
    RsvpAnswer,
    WorkingGroup,
    WorkingGroupMember,
    Workspace,
)
from storage.queries import default_community
from tests.conftest import FakeClock

EN = translator("en")


def _community(session: Session, team: str, name: str) -> int:
    community = partnerships.own_community(session, platform="slack", external_id=team, name=name)
    assert community.id is not None
    return community.id


def _seed(session: Session, community_id: int, team: str, *, org: str, ref: str) -> dict[str, int]:
    """One member with a need and an offer, a match, a meeting with an RSVP, a group, an invite,
    a delivery, a channel, a parked draft and a block: a bit of everything a community holds."""
    organisation = Organisation(community_id=community_id, name=org, city=f"{org} town")
    other = Organisation(community_id=community_id, name=f"Other of {team}")
    session.add_all([organisation, other])
    session.flush()
    member = Member(community_id=community_id, organisation_id=organisation.id, display_name=f"m-{team}")
    session.add(member)
    session.flush()
    assert member.id is not None
    need = Post(
        community_id=community_id,
        organisation_id=organisation.id or 0,
        member_id=member.id,
        ref=ref,
        kind=PostKind.need,
        title=f"need {team}",
    )
    offer = Post(
        community_id=community_id,
        organisation_id=other.id or 0,
        ref=f"{ref}-offer-{team}",
        kind=PostKind.offer,
        title=f"offer {team}",
    )
    session.add_all([need, offer])
    session.flush()
    match_round = MatchRound(community_id=community_id)
    session.add(match_round)
    session.flush()
    session.add(Match(community_id=community_id, round_id=match_round.id, need_id=need.id or 0, offer_id=offer.id or 0))
    meeting = Meeting(
        community_id=community_id, title=f"meet {team}", start_at=FakeClock().now() + timedelta(days=3), uid=team
    )
    group = WorkingGroup(community_id=community_id, name=f"group {team}")
    session.add_all([meeting, group])
    session.flush()
    session.add_all(
        [
            Rsvp(meeting_id=meeting.id or 0, member_id=member.id, answer=RsvpAnswer.yes),
            WorkingGroupMember(group_id=group.id or 0, organisation_id=organisation.id or 0),
            Invite(code=f"invite-{team}", community_id=community_id, organisation_id=organisation.id),
            Delivery(
                dedupe_key=f"d-{team}",
                community_id=community_id,
                kind="notice",
                platform="slack",
                workspace=team,
                chat="C1",
                due_at=FakeClock().now(),
            ),
            Channel(community_id=community_id, platform="slack", workspace=team, chat="C1"),
            ParkedDraft(member_id=member.id, flow="offer", step="title", draft={"title": "x"}),
            OrganisationBlock(member_id=member.id, blocked_organisation_id=other.id or 0),
        ]
    )
    session.flush()
    return {"member": member.id, "organisation": organisation.id or 0, "need": need.id or 0}


def test_an_installed_workspace_gets_its_own_community_once(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        default = default_community(session=session).id
        braga = _community(session, "T1", "Braga")
        other_braga = _community(session, "T2", "  Braga ")
        assert braga != default
        assert other_braga not in (braga, default)
        assert _community(session, "T1", "Braga renamed") == braga  # a re-install keeps it
        names = {c.id: c.name for c in session.exec(select(Community)).all()}
    assert names[braga] == "Braga"
    assert names[other_braga] == "Braga (T2)"


def test_merging_moves_everything_without_breaking_unique_keys(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        a, b = _community(session, "TA", "Alpha"), _community(session, "TB", "Beta")
        in_a = _seed(session, a, "TA", org="City of Braga", ref="r1")
        in_b = _seed(session, b, "TB", org="city of  BRAGA", ref="r1")  # same city, same ref
        # b's member also blocked a's "City of Braga": once merged, that is one block, not two
        session.add(OrganisationBlock(member_id=in_b["member"], blocked_organisation_id=in_a["organisation"]))
        session.add(OrganisationBlock(member_id=in_b["member"], blocked_organisation_id=in_b["organisation"]))
        moved = partnerships.merge(session, source=b, target=a)
    assert moved.members == 1
    assert moved.posts == 2
    assert moved.organisations_merged == 1
    assert moved.refs_renamed == 1
    with deps.sessions() as session:
        assert session.get(Community, b) is None
        for table in (Workspace, Member, Post, Match, MatchRound, Meeting, WorkingGroup, Invite, Delivery, Channel):
            rows = session.exec(select(table)).all()
            assert {row.community_id for row in rows} <= {a}, table
        braga = session.exec(select(Organisation).where(Organisation.community_id == a)).all()
        assert sorted(org.name for org in braga) == ["City of Braga", "Other of TA", "Other of TB"]
        kept = session.get(Organisation, in_a["organisation"])
        assert kept is not None
        member_b = session.get(Member, in_b["member"])
        assert member_b is not None
        assert member_b.organisation_id == kept.id
        refs = {post.title: post.ref for post in session.exec(select(Post)).all()}
        assert refs["need TA"] == "r1"  # a's own refs never change
        assert refs["need TB"] == "r1-2"
        blocks = session.exec(select(OrganisationBlock).where(OrganisationBlock.member_id == in_b["member"])).all()
        blocked = sorted(block.blocked_organisation_id for block in blocks)
        assert blocked.count(kept.id or 0) == 1  # one block left where two said the same
        assert len(blocked) == 2  # and the block of b's "Other of TB"
        groups = session.exec(select(WorkingGroupMember)).all()
        assert {g.organisation_id for g in groups} == {kept.id}
        assert session.exec(select(ParkedDraft)).all()  # drafts stay with their members
        assert len(session.exec(select(Rsvp)).all()) == 2


def test_the_default_community_is_kept_when_it_joins_another(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        default = default_community(session=session).id
        assert default is not None
        a = _community(session, "TA", "Alpha")
        _seed(session, default, "TD", org="Lisbon", ref="x")
        partnerships.merge(session, source=default, target=a)
    with deps.sessions() as session:
        assert default_community(session=session).id == default  # still there (empty) for newcomers
        assert session.exec(select(Post).where(Post.community_id == default)).all() == []


def _facilitator(team: str, user: str = "F") -> Sender:
    return Sender(platform="slack", workspace=team, user_id=f"{user}{team}", is_platform_admin=True)


def _say(deps: Deps, sender: Sender, text: str) -> str:
    chat = Address(platform="slack", workspace=sender.workspace, chat="C1")
    replies = Conversations(deps).handle(Incoming(sender=sender, chat=chat, text=text, is_private=False))
    return "\n".join(reply.text for reply in replies)


def _code(deps: Deps, team: str) -> tuple[str, str]:
    """(the answer to `/peer link`, the code it handed out)."""
    answer = _say(deps, _facilitator(team), "/peer link")
    with deps.sessions() as session:
        row = session.exec(select(PartnershipCode).order_by(col(PartnershipCode.id).desc())).first()
        assert row is not None
        return answer, partnerships.shown_code(row.code)


def test_link_codes_answer_every_case_politely(deps: Deps, clock: FakeClock) -> None:
    with transaction(deps.sessions) as session:
        a, b = _community(session, "TA", "Alpha"), _community(session, "TB", "Beta")
        _community(session, "TC", "Gamma")
    answer, code = _code(deps, "TA")
    assert f"/peer link {code}" in answer
    assert "Alpha" in answer
    assert "2026-03-09 09:00" in answer  # a week from the fake now, in the facilitator's zone (UTC)
    member = Sender(platform="slack", workspace="TB", user_id="UMEMBER")
    assert _say(deps, member, f"/peer link {code}") == EN.t("core.peer_refused")
    assert _say(deps, _facilitator("TB"), "/peer link NOPE-NOPE-NOPE") == EN.t("partnership.code_unknown")
    together = EN.t("partnership.already_together", community="Alpha")
    assert _say(deps, _facilitator("TA"), f"/peer link {code}") == together
    assert _say(deps, _facilitator("TB"), f"/peer link {code}") == EN.t("partnership.code_used")  # one code, one use
    answer, code = _code(deps, "TA")
    joined = _say(deps, _facilitator("TB"), f"/peer link {code.lower().replace('-', ' ')}")
    moved = {
        "members": EN.n("partnership.moved_members", 2),
        "posts": EN.n("partnership.moved_posts", 0),
        "organisations": EN.n("partnership.merged_organisations", 0),
    }
    assert joined == EN.t("partnership.joined", community="Alpha", **moved)
    assert joined.endswith("Moved: 2 members and 0 posts; 0 organisations with the same name were merged.")
    assert _say(deps, _facilitator("TC"), f"/peer link {code}") == EN.t("partnership.code_used")
    _, late = _code(deps, "TA")
    clock.advance(days=7, seconds=1)
    assert _say(deps, _facilitator("TC"), f"/peer link {late}") == EN.t("partnership.code_expired")
    with deps.sessions() as session:
        workspaces = {w.external_id: w.community_id for w in session.exec(select(Workspace)).all()}
        assert session.get(Community, b) is None
    assert workspaces["TA"] == workspaces["TB"] == a
    assert workspaces["TC"] != a


def test_homes_go_stale_for_the_people_a_change_concerns(deps: Deps) -> None:
    watch(deps.sessions, ["slack"])
    with transaction(deps.sessions) as session:
        a = _community(session, "TA", "Alpha")
    _say(deps, Sender(platform="slack", workspace="TA", user_id="U1"), "/help")
    _say(deps, Sender(platform="slack", workspace="TA", user_id="U2"), "/help")
    with transaction(deps.sessions) as session:
        take_stale(session, platform="slack")  # whatever joining noted
        members = session.exec(select(Member).where(Member.community_id == a).order_by(col(Member.id))).all()
        org = Organisation(community_id=a, name="Org")
        session.add(org)
        session.flush()
        posts = [
            Post(community_id=a, organisation_id=org.id or 0, member_id=m.id, ref=f"p{m.id}", kind=kind, title="t")
            for m, kind in zip(members, (PostKind.need, PostKind.offer), strict=True)
        ]
        session.add_all(posts)
    with transaction(deps.sessions) as session:
        assert {i.user_id for i in take_stale(session, platform="slack")} == {"U1", "U2"}
        assert take_stale(session, platform="slack") == []  # consumed
        session.add(Match(community_id=a, need_id=posts[0].id or 0, offer_id=posts[1].id or 0))
    with transaction(deps.sessions) as session:
        assert {i.user_id for i in take_stale(session, platform="slack")} == {"U1", "U2"}
        assert take_stale(session, platform="telegram") == []
