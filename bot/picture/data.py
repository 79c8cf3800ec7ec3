"""What the pictures show, read from the database: each organisation with its place and what it
offers and needs by topic, and the offer→need links between organisations at the furthest stage
each reached.

A link is one (offering organisation, needing organisation) pair. Its stage is the furthest of its
stored matches (a declined match is no link), or `possible` when only the next round would suggest
it — so a community that never ran a round still shows where its offers meet its needs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlmodel import Session, col, select

from bot.groups import propose_groups
from bot.matching import Matcher
from storage.models import (
    Match,
    MatchStatus,
    Organisation,
    OrganisationKind,
    Post,
    PostKind,
    PostStatus,
    WorkingGroup,
    WorkingGroupMember,
)

TOPIC_REASON = "topic:"  # how `Match.reasons` stores a shared topic (bot/matching/reasons.py)
SHOWN_STATUSES = (PostStatus.open, PostStatus.matched)  # what an organisation offers and needs now


class Stage(StrEnum):
    """How far an offer→need link went, weakest first."""

    possible = "possible"  # the next round would suggest it; nobody has seen it yet
    suggested = "suggested"
    accepted = "accepted"
    introduced = "introduced"
    met = "met"

    @property
    def rank(self) -> int:
        return STAGES.index(self)


STAGES: tuple[Stage, ...] = tuple(Stage)

_STORED_STAGE = {
    MatchStatus.suggested: Stage.suggested,
    MatchStatus.accepted: Stage.accepted,
    MatchStatus.introduced: Stage.introduced,
    MatchStatus.met: Stage.met,
    MatchStatus.not_useful: Stage.met,  # they met and judged it: the funnel counts it as met too
}


@dataclass(frozen=True, slots=True)
class Actor:
    """An organisation as the pictures show it."""

    id: int
    name: str
    kind: OrganisationKind
    city: str  # "" when neither the organisation nor its posts say
    offers: Counter[str]  # topic slug -> open offers on it
    needs: Counter[str]
    offer_count: int
    need_count: int


@dataclass(frozen=True, slots=True)
class Link:
    offer_organisation: int
    need_organisation: int
    stage: Stage
    score: float  # the best score among the pair's posts
    topics: tuple[str, ...]  # shared topic slugs, strongest first


@dataclass
class Synergies:
    community: str
    actors: dict[int, Actor]
    links: list[Link]  # strongest first: furthest stage, then score
    groups: dict[int, str] = field(default_factory=dict)  # organisation id -> working group name

    def cities(self) -> set[str]:
        return {actor.city for actor in self.actors.values() if actor.city}


@dataclass(frozen=True, slots=True)
class _PostRow:
    id: int
    organisation_id: int
    kind: PostKind
    topics: tuple[str, ...]
    city: str
    shown: bool  # open or matched: counts as what the organisation offers or needs


def gather(
    session: Session, matcher: Matcher, community_id: int, *, community: str, groups_in: str | None = None
) -> Synergies:
    """Everything the synergy map and the report draw, for one community; with `groups_in` (a
    language) also each organisation's working group (see `working_groups`)."""
    posts = _posts(session, community_id)
    by_id = {post.id: post for post in posts}
    links = _merge(_stored_links(session, community_id, by_id), _possible_links(session, matcher, community_id))
    involved = {post.organisation_id for post in posts if post.shown}
    involved |= {end for link in links for end in (link.offer_organisation, link.need_organisation)}
    actors = _actors(session, community_id, [post for post in posts if post.shown], involved)
    links = [link for link in links if link.offer_organisation in actors and link.need_organisation in actors]
    groups = working_groups(session, matcher, community_id, groups_in) if groups_in else {}
    return Synergies(community, actors, links, groups)


def _posts(session: Session, community_id: int) -> list[_PostRow]:
    rows = session.exec(select(Post).where(Post.community_id == community_id)).all()
    return [
        _PostRow(p.id or 0, p.organisation_id, p.kind, tuple(p.topics or ()), p.city or "", p.status in SHOWN_STATUSES)
        for p in rows
    ]


def _actors(session: Session, community_id: int, posts: Sequence[_PostRow], ids: set[int]) -> dict[int, Actor]:
    offers: dict[int, Counter[str]] = defaultdict(Counter)
    needs: dict[int, Counter[str]] = defaultdict(Counter)
    counts: Counter[tuple[int, PostKind]] = Counter()
    cities: dict[int, Counter[str]] = defaultdict(Counter)
    for post in posts:
        (offers if post.kind == PostKind.offer else needs)[post.organisation_id].update(post.topics)
        counts[(post.organisation_id, post.kind)] += 1
        if post.city:
            cities[post.organisation_id][post.city] += 1
    found = session.exec(
        select(Organisation).where(Organisation.community_id == community_id, col(Organisation.id).in_(ids))
    ).all()
    actors = {}
    for organisation in found:
        oid = organisation.id or 0
        city = organisation.city or (cities[oid].most_common(1)[0][0] if cities[oid] else "")
        actors[oid] = Actor(
            oid,
            organisation.name,
            organisation.kind,
            city.strip(),
            offers[oid],
            needs[oid],
            counts[(oid, PostKind.offer)],
            counts[(oid, PostKind.need)],
        )
    return actors


def _stored_links(session: Session, community_id: int, posts: dict[int, _PostRow]) -> list[Link]:
    rows = session.exec(
        select(Match).where(Match.community_id == community_id, Match.status != MatchStatus.declined)
    ).all()
    links = []
    for match in rows:
        need, offer = posts.get(match.need_id), posts.get(match.offer_id)
        if need is None or offer is None:
            continue
        topics = tuple(r.removeprefix(TOPIC_REASON) for r in match.reasons or () if r.startswith(TOPIC_REASON))
        stage = _STORED_STAGE[match.status]
        links.append(Link(offer.organisation_id, need.organisation_id, stage, match.score, topics))
    return links


def _possible_links(session: Session, matcher: Matcher, community_id: int) -> list[Link]:
    """What the next round would suggest (not stored: drawing a picture changes nothing)."""
    result = matcher.run_round(session, community_id)
    return [
        Link(s.offer.organisation_id, s.need.organisation_id, Stage.possible, s.score, s.shared_topics)
        for s in result.suggestions
    ]


def _merge(*groups: Iterable[Link]) -> list[Link]:
    """One link per organisation pair: the furthest stage, the best score, the topics of all."""
    merged: dict[tuple[int, int], Link] = {}
    for link in (link for group in groups for link in group):
        if link.offer_organisation == link.need_organisation:
            continue
        key = (link.offer_organisation, link.need_organisation)
        old = merged.get(key)
        if old is None:
            merged[key] = link
            continue
        stage = max(old.stage, link.stage, key=lambda s: s.rank)
        topics = tuple(dict.fromkeys((*old.topics, *link.topics)))
        merged[key] = Link(key[0], key[1], stage, max(old.score, link.score), topics)
    return sorted(merged.values(), key=lambda link: (-link.stage.rank, -link.score, link.offer_organisation))


def working_groups(session: Session, matcher: Matcher, community_id: int, language: str) -> dict[int, str]:
    """Organisation id -> working group name: the saved groups (each organisation's latest), or
    when none was saved yet, the groups `/peer groups` would propose now, named in `language`."""
    saved = _saved_groups(session, community_id)
    if saved:
        return saved
    proposal = propose_groups(session, matcher, community_id)
    return {member.organisation_id: group.name(language) for group in proposal.groups for member in group.members}


def _saved_groups(session: Session, community_id: int) -> dict[int, str]:
    rows = session.exec(
        select(WorkingGroupMember.organisation_id, WorkingGroup.name)
        .join(WorkingGroup, col(WorkingGroup.id) == WorkingGroupMember.group_id)
        .where(WorkingGroup.community_id == community_id)
        .order_by(col(WorkingGroup.created_at), col(WorkingGroup.id))
    ).all()
    return dict(rows)
