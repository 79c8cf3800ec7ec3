"""Peer working groups: 3-6 organisations around shared topics, built from the scored pairs.

Organisations are nodes; an edge between two of them weighs the scores of the allowed
(need, offer) pairs between their posts, either way round. Louvain community detection (networkx)
finds tightly knit sets; sets larger than the maximum are split again at a higher resolution,
small ones are merged with a neighbour or attached to the group they are most tied to. Every
organisation with open posts ends in at most one group, or in `left_out` with the reason.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import networkx as nx
from sqlmodel import Session, col, select

from bot.i18n import N_, translator
from bot.matching import Matcher, ScoredPair
from bot.numbers import parse_number
from bot.topics import label
from storage.models import Organisation, Post, PostStatus, WorkingGroup, WorkingGroupMember

SEED = 7  # Louvain is randomised; a fixed seed gives the same proposal for the same data
PAIRS_PER_NEED = 8
SHOWN_PAIRS = 2
GROUP_SIZE_MAX = 50  # a working group is a table of people, not an assembly


class LeftOutReason(StrEnum):
    isolated = "isolated"  # no pair above the minimum score with another organisation
    too_few = "too_few"  # tied only to organisations too few to make a group
    groups_full = "groups_full"  # the groups it is tied to were already full


_LEFT_OUT_KEYS = {
    LeftOutReason.isolated: N_("matching.group_left_isolated"),
    LeftOutReason.too_few: N_("matching.group_left_too_few"),
    LeftOutReason.groups_full: N_("matching.group_left_full"),
}


@dataclass(frozen=True, slots=True)
class GroupMember:
    organisation_id: int
    name: str


@dataclass(frozen=True, slots=True)
class GroupPair:
    """A need and an offer inside the group that scored high together."""

    need_organisation: str
    need_title: str
    offer_organisation: str
    offer_title: str
    score: float


@dataclass(frozen=True, slots=True)
class ProposedGroup:
    topic: str  # a topic slug, or "" when the members share no taxonomy topic
    members: tuple[GroupMember, ...]  # most connected first
    pairs: tuple[GroupPair, ...]  # the strongest pairs inside the group, best first
    topic_members: int  # members with a pair on the topic
    topic_shared: bool = False  # an earlier group of the proposal has the same topic

    @property
    def named_after_topic(self) -> bool:
        """A topic names the group only when most of its members have a pair on it."""
        return bool(self.topic) and 2 * self.topic_members > len(self.members)

    def name(self, language: str) -> str:
        tr = translator(language)
        if not self.named_after_topic:
            return tr.t("matching.group_name_plain", first=self.members[0].name)
        if self.topic_shared:
            return tr.t("matching.group_name_more", topic=label(self.topic, tr.language), first=self.members[0].name)
        return tr.t("matching.group_name", topic=label(self.topic, tr.language))

    def reasons(self, language: str) -> list[str]:
        tr = translator(language)
        lines = []
        if self.topic:
            # The count agrees with the member list: "2 of the 3 members", never "2 members" beside 3.
            every = self.topic_members == len(self.members)
            key = N_("matching.group_reason_topic") if every else N_("matching.group_reason_topic_some")
            lines.append(
                tr.t(key, topic=label(self.topic, tr.language), count=self.topic_members, total=len(self.members))
            )
        lines.extend(
            tr.t(
                "matching.group_reason_pair",
                need_organisation=pair.need_organisation,
                need=pair.need_title,
                offer_organisation=pair.offer_organisation,
                offer=pair.offer_title,
            )
            for pair in self.pairs
        )
        return lines


@dataclass(frozen=True, slots=True)
class LeftOut:
    member: GroupMember
    reason: LeftOutReason

    def explain(self, language: str, *, min_size: int) -> str:
        return translator(language).t(_LEFT_OUT_KEYS[self.reason], min_size=min_size)


@dataclass
class GroupProposal:
    community_id: int
    groups: list[ProposedGroup]
    left_out: list[LeftOut]
    min_size: int
    max_size: int


@dataclass
class _Graph:
    graph: nx.Graph = field(default_factory=nx.Graph)
    topics: dict[frozenset[int], Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    pairs: dict[frozenset[int], list[ScoredPair]] = field(default_factory=lambda: defaultdict(list))

    def tie(self, node: int, group: Iterable[int]) -> float:
        return float(sum(self.graph[node][other]["weight"] for other in group if self.graph.has_edge(node, other)))


def parse_size(text: str) -> tuple[int, int]:
    """`"3-6"` -> (3, 6); `"4"` -> (4, 4). ValueError when it makes no sense."""
    low, dash, high = text.strip().partition("-")
    sizes = (parse_number(low, maximum=GROUP_SIZE_MAX), parse_number(high if dash else low, maximum=GROUP_SIZE_MAX))
    if sizes[0] is None or sizes[1] is None:
        raise ValueError(f"expected a size range such as 3-6, up to {GROUP_SIZE_MAX}, got {text!r}")
    if not 2 <= sizes[0] <= sizes[1]:
        raise ValueError(f"sizes must be at least 2 and the smaller first, got {text!r}")
    return sizes[0], sizes[1]


def propose_groups(
    session: Session, matcher: Matcher, community_id: int, *, min_size: int = 3, max_size: int = 6
) -> GroupProposal:
    """Groups of `min_size`-`max_size` organisations of the community with open posts."""
    if not 2 <= min_size <= max_size:
        raise ValueError("group sizes must satisfy 2 <= min_size <= max_size")
    organisations = _organisations_with_open_posts(session, community_id)
    built = _graph(organisations, matcher.scored_pairs(session, community_id, per_need=PAIRS_PER_NEED))
    connected = [node for node in built.graph if built.graph.degree(node) > 0]
    found = nx.community.louvain_communities(built.graph.subgraph(connected), weight="weight", seed=SEED)
    groups: list[set[int]] = []
    small: list[set[int]] = []
    for community in found:
        for part in _split(built, set(community), max_size):
            (groups if len(part) >= min_size else small).append(part)
    groups, left = _place_small(built, groups, small, min_size, max_size)
    proposal = GroupProposal(community_id, [], [], min_size, max_size)
    posts = _post_titles(session, built)
    named: set[str] = set()
    for members in sorted(groups, key=lambda g: -sum(built.tie(n, g) for n in g)):
        proposal.groups.append(_describe(built, members, organisations, posts, named))
    for node, reason in sorted(left.items()):
        proposal.left_out.append(LeftOut(GroupMember(node, organisations[node]), reason))
    for node in sorted(set(organisations) - set(connected)):
        proposal.left_out.append(LeftOut(GroupMember(node, organisations[node]), LeftOutReason.isolated))
    return proposal


def _organisations_with_open_posts(session: Session, community_id: int) -> dict[int, str]:
    rows = session.exec(
        select(Organisation.id, Organisation.name)
        .join(Post, col(Post.organisation_id) == Organisation.id)
        .where(Post.community_id == community_id, Post.status == PostStatus.open)
        .distinct()
    ).all()
    return {int(organisation_id): name for organisation_id, name in rows if organisation_id is not None}


def _graph(organisations: dict[int, str], pairs: Sequence[ScoredPair]) -> _Graph:
    built = _Graph()
    built.graph.add_nodes_from(organisations)
    for pair in pairs:
        a, b = pair.need_organisation, pair.offer_organisation
        if a == b or a not in organisations or b not in organisations:
            continue
        weight = built.graph[a][b]["weight"] if built.graph.has_edge(a, b) else 0.0
        built.graph.add_edge(a, b, weight=weight + pair.score)
        key = frozenset((a, b))
        built.topics[key].update(dict.fromkeys(pair.shared_topics, pair.score))
        built.pairs[key].append(pair)
    return built


def _split(built: _Graph, community: set[int], max_size: int) -> list[set[int]]:
    """Parts of at most `max_size`: Louvain again at rising resolution, then greedy by ties."""
    if len(community) <= max_size:
        return [community]
    subgraph = built.graph.subgraph(community)
    for resolution in (1.5, 2.5, 4.0):
        parts = nx.community.louvain_communities(subgraph, weight="weight", resolution=resolution, seed=SEED)
        if len(parts) > 1:
            return [piece for part in parts for piece in _split(built, set(part), max_size)]
    return _greedy(built, community, max_size)


def _greedy(built: _Graph, community: set[int], max_size: int) -> list[set[int]]:
    """Grow a group from the most connected node by the strongest tie, until full; repeat."""
    left, parts = set(community), []
    while left:
        seed = max(sorted(left), key=lambda node: built.tie(node, left - {node}))
        part = {seed}
        while len(part) < max_size and left - part:
            best = max(sorted(left - part), key=lambda node: built.tie(node, part))
            part.add(best)
        parts.append(part)
        left -= part
    return parts


def _place_small(
    built: _Graph, groups: list[set[int]], small: list[set[int]], min_size: int, max_size: int
) -> tuple[list[set[int]], dict[int, LeftOutReason]]:
    """Merge small sets with each other when tied, else attach their members to the group they are
    most tied to while it has room; the rest are left out with the reason."""
    small = sorted(small, key=len, reverse=True)
    merged = True
    while merged:
        merged = False
        for first in range(len(small)):
            for second in range(first + 1, len(small)):
                a, b = small[first], small[second]
                if len(a) + len(b) <= max_size and any(built.tie(node, b) > 0 for node in a):
                    small[first] = a | b
                    del small[second]
                    merged = True
                    break
            if merged:
                break
    groups.extend(part for part in small if len(part) >= min_size)
    pending = [
        node for part in small if len(part) < min_size for node in sorted(part, key=lambda n: -built.tie(n, part))
    ]
    return groups, _attach(built, groups, pending, max_size)


def _attach(built: _Graph, groups: list[set[int]], pending: list[int], max_size: int) -> dict[int, LeftOutReason]:
    """Attach each pending node to the group it is most tied to while that has room. A node tied
    only to another pending one is tried again once that one is placed, so the order they come in
    never leaves out an organisation whose partner found a group. The rest, with the reason."""
    placed = True
    while pending and placed:
        placed = False
        for node in list(pending):
            room = [group for group in groups if len(group) < max_size and built.tie(node, group) > 0]
            if room:
                max(room, key=lambda group: built.tie(node, group)).add(node)
                pending.remove(node)
                placed = True
    left: dict[int, LeftOutReason] = {}
    for node in pending:
        tied = any(built.tie(node, group) > 0 for group in groups)
        left[node] = LeftOutReason.groups_full if tied else LeftOutReason.too_few
    return left


def _post_titles(session: Session, built: _Graph) -> dict[int, str]:
    ids = {pair.need_id for pairs in built.pairs.values() for pair in pairs}
    ids |= {pair.offer_id for pairs in built.pairs.values() for pair in pairs}
    if not ids:
        return {}
    rows = session.exec(select(Post.id, Post.title).where(col(Post.id).in_(sorted(ids)))).all()
    return {int(post_id): title for post_id, title in rows if post_id is not None}


def _describe(
    built: _Graph, members: set[int], organisations: dict[int, str], titles: dict[int, str], taken: set[str]
) -> ProposedGroup:
    inside = [frozenset((a, b)) for a in members for b in members if a < b and built.graph.has_edge(a, b)]
    topics: Counter[str] = Counter()
    covered: dict[str, set[int]] = defaultdict(set)  # topic -> members with a pair on it
    for key in inside:
        topics.update(built.topics[key])
        for slug in built.topics[key]:
            covered[slug] |= key
    # What the pairs inside really share: the topic most members have a pair on, then the heaviest;
    # a second group on a taken topic is told apart by its first member's name.
    ranked = sorted(topics, key=lambda slug: (-len(covered[slug]), -topics[slug], slug))
    topic = ranked[0] if ranked else ""
    shared = topic in taken
    taken.add(topic)
    on_topic = covered[topic] if topic else set()
    pairs = sorted((pair for key in inside for pair in built.pairs[key]), key=lambda pair: -pair.score)
    shown = tuple(
        GroupPair(
            organisations[pair.need_organisation],
            titles.get(pair.need_id, ""),
            organisations[pair.offer_organisation],
            titles.get(pair.offer_id, ""),
            pair.score,
        )
        for pair in _covering(pairs)
    )
    ordered = sorted(members, key=lambda node: (-built.tie(node, members), organisations[node]))
    members_ = tuple(GroupMember(node, organisations[node]) for node in ordered)
    return ProposedGroup(topic, members_, shown, len(on_topic), shared)


def _covering(pairs: Sequence[ScoredPair]) -> list[ScoredPair]:
    """The pairs a group shows, best first: the `SHOWN_PAIRS` strongest, then each member's
    strongest pair until every member is in one, so no organisation is placed without its reason."""
    shown = list(pairs[:SHOWN_PAIRS])
    seen = {organisation for pair in shown for organisation in (pair.need_organisation, pair.offer_organisation)}
    for pair in pairs[SHOWN_PAIRS:]:
        if not {pair.need_organisation, pair.offer_organisation} <= seen:
            shown.append(pair)
            seen |= {pair.need_organisation, pair.offer_organisation}
    return shown


def save_groups(session: Session, proposal: GroupProposal, *, language: str) -> list[WorkingGroup]:
    """Store the proposed groups (names and reasons written in `language`) with their members."""
    saved = []
    for group in proposal.groups:
        row = WorkingGroup(
            community_id=proposal.community_id,
            name=group.name(language)[:200],
            topic=group.topic,
            reasons=group.reasons(language),
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        session.add_all(WorkingGroupMember(group_id=row.id, organisation_id=m.organisation_id) for m in group.members)
        saved.append(row)
    session.flush()
    return saved


__all__ = [
    "GroupMember",
    "GroupPair",
    "GroupProposal",
    "LeftOut",
    "LeftOutReason",
    "ProposedGroup",
    "propose_groups",
    "save_groups",
]
