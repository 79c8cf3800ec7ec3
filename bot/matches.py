"""What becomes of a suggested pair: each side accepts or declines; when both accept (or a
facilitator decides) the two people are introduced, each on their own platform."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import Session, and_, col, or_, select

from bot.contacts import ContactKind, contact_of
from bot.deliveries import enqueue, member_address
from bot.errors import UserError
from bot.i18n import N_, Translator, translator
from bot.matching import render_stored
from bot.matching.eligibility import Refusal, community_barriers, pair_refusal, refusal
from bot.members import Who, member_language
from bot.notices import notify_member, text_for
from bot.organisations import speaks_for
from bot.ports import Address, GroupChat, Mention, Reply
from bot.reach import ReachKind, reach, reach_text
from bot.roles import facilitators
from storage.models import Community, Identity, Match, MatchStatus, Member, Organisation, Post, Response
from storage.queries import identities_of_member, members_of_organisation

Side = Literal["need", "offer"]
OPEN_STATUSES = (MatchStatus.suggested, MatchStatus.accepted, MatchStatus.introduced)
NO_GROUP_CHATS: Mapping[str, GroupChat] = {}
REFUSAL_KEYS = {
    Refusal.closed: N_("core.match_closed"),
    Refusal.paused: N_("core.match_paused"),
    Refusal.blocked: N_("core.match_blocked"),
    Refusal.settled: N_("core.match_settled"),
    Refusal.same_organisation: N_("core.match_same_organisation"),
}


@dataclass(frozen=True)
class MatchView:
    match: Match
    need: Post
    offer: Post
    side: Side  # the reader's side

    @property
    def mine(self) -> Post:
        return self.need if self.side == "need" else self.offer

    @property
    def theirs(self) -> Post:
        return self.offer if self.side == "need" else self.need

    @property
    def my_response(self) -> Response:
        return self.match.need_response if self.side == "need" else self.match.offer_response


def side_members(session: Session, post: Post) -> Sequence[Member]:
    """Who speaks for a post: its author, or (for imported posts) the people of its organisation."""
    if post.member_id is not None:
        author = session.get(Member, post.member_id)
        return [author] if author else []
    members = members_of_organisation(session=session, organisation_id=post.organisation_id)
    return [member for member in members if speaks_for(member, post.organisation_id)]


def _side_of(session: Session, who: Who, need: Post, offer: Post) -> Side | None:
    for side, post in (("need", need), ("offer", offer)):
        if any(member.id == who.member_id for member in side_members(session, post)):
            return side  # type: ignore[return-value]
    return None


def my_matches(session: Session, who: Who, *, now: datetime) -> list[MatchView]:
    """Open matches on the member's posts (or their organisation's imported posts), best first; a
    suggestion shows only while `eligibility` lets it go ahead."""
    # A pending member speaks for no post of their organisation but their own (`speaks_for`).
    organisation_id = who.member.organisation_id if speaks_for(who.member, who.member.organisation_id) else None
    mine = select(Post.id).where(
        or_(
            Post.member_id == who.member_id,
            and_(Post.organisation_id == organisation_id, col(Post.member_id).is_(None)),
        )
    )
    rows = session.exec(
        select(Match)
        .where(col(Match.status).in_(OPEN_STATUSES))
        .where(or_(col(Match.need_id).in_(mine), col(Match.offer_id).in_(mine)))
        .order_by(col(Match.score).desc())
    ).all()
    barriers = community_barriers(session, who.community_id, now)
    views = []
    for match in rows:
        need, offer = session.get(Post, match.need_id), session.get(Post, match.offer_id)
        side = _side_of(session, who, need, offer) if need and offer else None
        if need is None or offer is None or side is None:
            continue
        if match.status == MatchStatus.suggested and refusal(need, offer, barriers) is not None:
            continue
        views.append(MatchView(match, need, offer, side))
    return views


def respond(
    session: Session,
    who: Who,
    match_id: int,
    *,
    accept: bool,
    now: datetime,
    group_chats: Mapping[str, GroupChat] = NO_GROUP_CHATS,
) -> MatchView:
    """Record the member's answer; a second yes introduces the pair."""
    match = session.get(Match, match_id)
    need = session.get(Post, match.need_id) if match else None
    offer = session.get(Post, match.offer_id) if match else None
    if match is None or need is None or offer is None or match.community_id != who.community_id:
        raise UserError(N_("core.match_not_found"), number=match_id)
    side = _side_of(session, who, need, offer)
    if side is None:
        raise UserError(N_("core.match_not_yours"), number=match_id)
    may_go_ahead(session, match, need, offer, now=now)  # says why, when the rule refuses the pair
    if match.status == MatchStatus.withdrawn:
        raise UserError(N_("core.match_withdrawn"), number=match_id)
    if match.status != MatchStatus.suggested:
        raise UserError(N_("core.match_settled"), number=match_id)
    answer = Response.accepted if accept else Response.declined
    if side == "need":
        match.need_response = answer
    else:
        match.offer_response = answer
    match.updated_at = now
    if not accept:
        match.status = MatchStatus.declined
    elif match.need_response == match.offer_response == Response.accepted:
        introduce(session, match, now=now, group_chats=group_chats)
    session.add(match)
    return MatchView(match, need, offer, side)


def may_go_ahead(session: Session, match: Match, need: Post, offer: Post, *, now: datetime) -> None:
    """Raise `UserError` saying why, when `eligibility` no longer lets this pair go ahead."""
    refused = pair_refusal(session, need, offer, now)
    if refused is not None:
        raise UserError(REFUSAL_KEYS[refused], number=match.id)


def facilitate(
    session: Session, who: Who, match_id: int, *, now: datetime, group_chats: Mapping[str, GroupChat] = NO_GROUP_CHATS
) -> Match:
    """`/peer introduce`: a facilitator introduces a pair without waiting for both answers."""
    match = session.get(Match, match_id)
    need = session.get(Post, match.need_id) if match else None
    offer = session.get(Post, match.offer_id) if match else None
    if match is None or need is None or offer is None or match.community_id != who.community_id:
        raise UserError(N_("core.introduce_usage"))
    may_go_ahead(session, match, need, offer, now=now)
    introduce(session, match, now=now, group_chats=group_chats, by=who.member)
    return match


@dataclass(frozen=True)
class Party:
    """One side of an introduction: its post and the people who speak for it (none for an
    imported post whose organisation has nobody here)."""

    post: Post
    people: Sequence[Member]


def introduce(
    session: Session,
    match: Match,
    *,
    now: datetime,
    group_chats: Mapping[str, GroupChat] = NO_GROUP_CHATS,
    by: Member | None = None,
) -> None:
    """Both sides are told who the other is, both posts, why they fit and how to reach them, each
    on their own platform (one group chat when they all are in one workspace of a platform that
    has group chats, e.g. a Slack group DM). `by`: the facilitator who introduced them."""
    need, offer = session.get(Post, match.need_id), session.get(Post, match.offer_id)
    assert need is not None
    assert offer is not None
    match.status = MatchStatus.introduced
    match.introduced_at = now
    session.add(match)
    sides = (Party(need, side_members(session, need)), Party(offer, side_members(session, offer)))
    together = all(side.people for side in sides)
    shared = _group_chat(session, [*sides[0].people, *sides[1].people], group_chats) if together else None
    if shared is not None:
        _enqueue_intro(session, match, sides[0].people[0], sides[0], sides[1], shared, now, by=by, shared=True)
        return
    for mine, theirs in (sides, sides[::-1]):
        for member in mine.people:
            address = member_address(session, member.id or 0)
            if address is not None:
                _enqueue_intro(session, match, member, mine, theirs, address, now, by=by, shared=False)
    if any(readers.people and _unreachable(session, other) for readers, other in (sides, sides[::-1])):
        _ask_facilitators(session, match, need, offer, now)


def _unreachable(session: Session, side: Party) -> bool:
    """This side cannot be reached at all (an imported post nobody here speaks for, without a
    contact): the introduction says a facilitator will connect them, and the facilitators are asked."""
    return any(
        reach(session, side.post, member, shared=False).kind == ReachKind.facilitator for member in _speakers(side)
    )


def _group_chat(session: Session, members: list[Member], group_chats: Mapping[str, GroupChat]) -> Address | None:
    """One chat for everyone, when they all are in one workspace of a platform that has group chats."""
    identities: list[Identity] = []
    for member in members:
        found = identities_of_member(session=session, member_id=member.id or 0)
        if not found:
            return None
        identities.append(found[0])
    places = {(identity.platform, identity.workspace) for identity in identities}
    if len(identities) < 2 or len(places) != 1:
        return None
    platform, workspace = places.pop()
    make = group_chats.get(platform)
    return make(workspace, sorted({identity.user_id for identity in identities})) if make else None


def _enqueue_intro(
    session: Session,
    match: Match,
    member: Member,
    mine: Party,
    theirs: Party,
    to: Address,
    now: datetime,
    *,
    by: Member | None,
    shared: bool,
) -> None:
    community = session.get(Community, match.community_id)
    assert community is not None
    identity = identities_of_member(session=session, member_id=member.id or 0)
    tr = translator(member_language(member, identity[0] if identity else None, community))
    enqueue(
        session,
        dedupe_key=f"introduction:{match.id}:{to.key()}",
        to=to,
        reply=introduction(session, tr, match, mine, theirs, by=by, shared=shared, to=to),
        kind="introduction",
        due_at=now,
        community_id=match.community_id,
        member_id=member.id,
    )


def introduction(
    session: Session,
    tr: Translator,
    match: Match,
    mine: Party,
    theirs: Party,
    *,
    by: Member | None,
    shared: bool,
    to: Address,
) -> Reply:
    """What one reader is told: who introduces them, who the other side is (name, organisation,
    city), both posts, why they fit and how to reach each person of the other side. In a chat
    both sides share, everyone is named and the posts are told from neither side."""
    number = match.id or 0
    header = (
        tr.t("core.introduction_by", number=number, facilitator=by.display_name or "?")
        if by is not None
        else tr.t("core.introduction_both", number=number)
    )
    lines: list[str] = [header]
    mentions: list[Mention] = []
    for party in [mine, theirs] if shared else [theirs]:
        for member in _speakers(party):
            line, mention = _person_line(session, tr, party.post, member, shared=shared, to=to, number=number)
            start = sum(len(done) + 1 for done in lines)  # where this line starts in the text
            if mention is not None:
                mentions.append(Mention(start + mention.start, start + mention.end, mention.user_id))
            lines.append(line)
    reasons = reasons_text(tr.language, match.reasons)
    lines.append(
        tr.t("core.introduction_shared", first=mine.post.title, second=theirs.post.title, reasons=reasons)
        if shared
        else tr.t("core.introduction", mine=mine.post.title, theirs=theirs.post.title, reasons=reasons)
    )
    return Reply(text="\n".join(lines), mentions=tuple(mentions))


def _person_line(
    session: Session, tr: Translator, post: Post, member: Member | None, *, shared: bool, to: Address, number: int
) -> tuple[str, Mention | None]:
    """ "Meet Ana (Dublin City Council, Dublin). How to reach them: …", with Ana's name as a mention
    when the reader can write to her where the introduction is read (`_user_here`)."""
    found = reach(session, post, member, shared=shared)
    line, starts = tr.placed(
        "core.introduction_person",
        person=_who(session, post, member),
        reach=reach_text(tr, found, platform=to.platform, number=number),
    )
    user_id = _user_here(session, member, to) if member is not None and member.display_name else None
    if member is None or user_id is None:
        return line, None
    start = starts["person"]  # `_who` begins with the name
    return line, Mention(start, start + len(member.display_name), user_id)


def _user_here(session: Session, member: Member, to: Address) -> str | None:
    """The member's user id on the platform and workspace `to` is in (Slack user ids belong to one
    workspace), unless they chose to be reached only through Peerlink; None elsewhere."""
    chosen = contact_of(session, member.id or 0)
    if chosen is not None and chosen.kind is ContactKind.peerlink:
        return None
    for identity in identities_of_member(session=session, member_id=member.id or 0):
        if identity.platform == to.platform and identity.workspace == to.workspace:
            return identity.user_id
    return None


def _speakers(party: Party) -> Sequence[Member | None]:
    """The people of a side, or None for an imported post nobody here speaks for."""
    return party.people or [None]


def _who(session: Session, post: Post, member: Member | None) -> str:
    """ "Ana Souza (Cooperativa Habitar, Lisboa)", or the organisation alone when nobody speaks for it."""
    organisation = session.get(Organisation, post.organisation_id)
    city = (organisation.city if organisation else None) or post.city
    place = ", ".join(part for part in (organisation.name if organisation else "", city or "") if part)
    name = member.display_name if member is not None else ""
    if name and place:
        return f"{name} ({place})"
    return name or place


def _ask_facilitators(session: Session, match: Match, need: Post, offer: Post, now: datetime) -> None:
    """Nobody to write to on one side: the community's facilitators are asked to connect them."""
    write = text_for(
        "core.facilitator_connect",
        number=match.id,
        need=_who(session, need, None),
        need_title=need.title,
        offer=_who(session, offer, None),
        offer_title=offer.title,
    )
    for facilitator in facilitators(session, match.community_id):
        notify_member(
            session,
            facilitator.id or 0,
            write,
            dedupe_key=f"connect:{match.id}:{facilitator.id}",
            kind="notice",
            due_at=now,
            community_id=match.community_id,
        )


def reasons_text(language: str, reasons: Sequence[str]) -> str:
    """Why the pair was suggested, in the reader's language (stored language-neutral)."""
    return "; ".join(render_stored(reasons, language)) or translator(language).t("core.reason_similar")
