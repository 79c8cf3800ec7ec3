"""What became of the introductions: the follow-up a week later, the answers, and the funnel.

The funnel of a round counts its matches at each stage: suggested (all), accepted (both sides said
yes, or a facilitator introduced them), introduced, met (answered the follow-up "yes" or "not
useful" — they got in touch and judged it) and useful (answered "yes").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.deliveries import enqueue
from bot.errors import UserError
from bot.i18n import N_, translator
from bot.matches import side_members
from bot.matching.eligibility import is_paused
from bot.meeting_time import civil_moment
from bot.members import Who
from bot.ports import Button, Reply
from bot.readers import member_reader
from storage.models import Match, MatchRound, MatchStatus, Organisation, Post

FOLLOWUP_AFTER = timedelta(days=7)
FOLLOWUP_ASKS = 2  # the second one only after "not yet"
FOLLOWUP = "followup"
ANSWERS = {"yes": MatchStatus.met, "useless": MatchStatus.not_useful}
ACCEPTED = (MatchStatus.accepted, MatchStatus.introduced, MatchStatus.met, MatchStatus.not_useful)
MET = (MatchStatus.met, MatchStatus.not_useful)


@dataclass(frozen=True, slots=True)
class Funnel:
    round_id: int
    created_at: datetime
    suggested: int
    accepted: int
    introduced: int
    met: int
    useful: int


def funnel(session: Session, match_round: MatchRound) -> Funnel:
    matches = session.exec(select(Match).where(Match.round_id == match_round.id)).all()
    return Funnel(
        round_id=match_round.id or 0,
        created_at=match_round.created_at,
        suggested=len(matches),
        accepted=sum(m.status in ACCEPTED for m in matches),
        introduced=sum(m.introduced_at is not None for m in matches),
        met=sum(m.status in MET for m in matches),
        useful=sum(m.status == MatchStatus.met for m in matches),
    )


def recent_rounds(session: Session, community_id: int, *, limit: int = 5) -> Sequence[MatchRound]:
    return session.exec(
        select(MatchRound)
        .where(MatchRound.community_id == community_id)
        .order_by(col(MatchRound.created_at).desc(), col(MatchRound.id).desc())
        .limit(limit)
    ).all()


def _posts(session: Session, match: Match) -> tuple[Post, Post]:
    need, offer = session.get(Post, match.need_id), session.get(Post, match.offer_id)
    assert need is not None
    assert offer is not None
    return need, offer


def followup_reply(session: Session, language: str, match: Match, mine: Post, theirs: Post) -> Reply:
    tr = translator(language)
    organisation = session.get(Organisation, theirs.organisation_id)
    name = organisation.name if organisation else ""
    buttons = [
        Button(label=tr.t("schedules.button_met_yes"), value=f"/met {match.id} yes", style="primary"),
        Button(label=tr.t("schedules.button_met_notyet"), value=f"/met {match.id} notyet"),
        Button(label=tr.t("schedules.button_met_useless"), value=f"/met {match.id} useless"),
    ]
    if organisation is not None:
        buttons.append(
            Button(label=tr.t("schedules.button_block", organisation=name), value=f"/block {organisation.id}")
        )
    text = tr.t("schedules.followup", mine=mine.title, theirs=theirs.title, organisation=name)
    return Reply(text=text, buttons=tuple(buttons))


def plan_followups(session: Session, match: Match, *, now: datetime, ask: int = 1, member_id: int | None = None) -> int:
    """ "Did you meet?" to each side, a week after the introduction (or a week after "not yet"),
    at a civil hour for each reader; paused members are asked once their pause is over."""
    if match.introduced_at is None or ask > FOLLOWUP_ASKS:
        return 0
    need, offer = _posts(session, match)
    sides = [(m, need, offer) for m in side_members(session, need)]
    sides += [(m, offer, need) for m in side_members(session, offer)]
    due = match.introduced_at + FOLLOWUP_AFTER if ask == 1 else now + FOLLOWUP_AFTER
    planned = 0
    for member, mine, theirs in sides:
        if (member_id is not None and member.id != member_id) or is_paused(member, now):
            continue
        reader = member_reader(session, member.id or 0)
        if reader is None:
            continue
        row = enqueue(
            session,
            dedupe_key=f"{FOLLOWUP}:{match.id}:{member.id}" + (f":{ask}" if ask > 1 else ""),
            to=reader.address,
            reply=followup_reply(session, reader.language, match, mine, theirs),
            kind=FOLLOWUP,
            due_at=civil_moment(max(due, now), reader.zone),
            community_id=match.community_id,
            member_id=member.id,
        )
        planned += row is not None
    return planned


def answer_followup(session: Session, who: Who, match_id: int, answer: str, *, now: datetime) -> Match:
    """`yes` -> met, `useless` -> not useful, `notyet` -> asked again in a week (once)."""
    match = session.get(Match, match_id)
    if match is None or match.community_id != who.community_id:
        raise UserError(N_("schedules.error_unknown_match"), id=match_id)
    need, offer = _posts(session, match)
    if not any(m.id == who.member_id for post in (need, offer) for m in side_members(session, post)):
        raise UserError(N_("schedules.error_match_not_yours"), id=match_id)
    if match.introduced_at is None:
        raise UserError(N_("schedules.error_not_introduced"), id=match_id)
    if answer == "notyet":
        if match.status == MatchStatus.introduced:
            plan_followups(session, match, now=now, ask=2, member_id=who.member_id)
        return match
    match.status = ANSWERS[answer]
    match.updated_at = now
    session.add(match)
    return match
