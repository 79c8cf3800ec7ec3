"""Running flows: start, continue, park and end conversations whose state is a database row."""

from __future__ import annotations

import copy

from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session

from bot.i18n import N_
from bot.ports import Reply
from bot.text import shorten
from handlers.application.flows import Draft, Flow, Outcome
from handlers.application.flows.post import NEED, OFFER, first_step, new_draft, on_title, prompt
from handlers.application.turn import Turn
from storage.models import ConversationState, ParkedDraft, Post, PostKind
from storage.queries import parked_draft
from storage.types import utcnow

FLOWS: dict[str, Flow] = {OFFER.name: OFFER, NEED.name: NEED}
KIND_NAMES = {"offer": N_("core.kind_offer"), "need": N_("core.kind_need")}


def start_flow(turn: Turn, flow: Flow, args: str, post: Post | None = None) -> list[Reply]:
    """Begin an offer/need (or edit `post`); a parked draft of the same kind is offered back first."""
    if not turn.incoming.is_private:
        return [Reply(text=turn.tr.t("core.continue_in_private"), private_link=True)]
    kind = PostKind(flow.name)
    parked = None if post else parked_draft(session=turn.session, member_id=turn.who.member_id, flow=flow.name)
    if parked is not None:
        draft: Draft = {"kind": kind.value, "parked": {"step": parked.step, "draft": parked.draft}}
        turn.session.delete(parked)
        outcome = Outcome("resume", flow.prompt(turn, "resume", draft))
    else:
        draft = new_draft(turn.who, kind, post)
        step = first_step(turn.who, draft)
        outcome = on_title(turn, args, draft) if step == "title" and args else Outcome(step, prompt(turn, step, draft))
    state = _new_state(turn, flow)
    save_state(turn, state, flow, outcome, draft)
    return outcome.replies


def _new_state(turn: Turn, flow: Flow) -> ConversationState:
    chat = turn.incoming.chat
    return ConversationState(
        platform=chat.platform,
        workspace=chat.workspace,
        chat=chat.chat,
        user_id=turn.incoming.sender.user_id,
        flow=flow.name,
        step="",
    )


def save_state(turn: Turn, state: ConversationState, flow: Flow, outcome: Outcome, draft: Draft) -> None:
    if outcome.step is None:
        end_conversation(turn.session, state)
        return
    state.step = outcome.step
    state.draft = copy.deepcopy(draft)
    flag_modified(state, "draft")  # nested changes are invisible to SQLAlchemy otherwise
    state.updated_at = utcnow()
    turn.session.add(state)


def end_conversation(session: Session, state: ConversationState) -> None:
    if state.id is not None:
        session.delete(state)
    session.flush()


def park(turn: Turn, state: ConversationState) -> Reply:
    """Keep an interrupted conversation's draft for next time, and say so."""
    flow = FLOWS.get(state.flow)
    draft = state.draft.get("parked", {}).get("draft") if state.step == "resume" else state.draft
    step = state.draft["parked"]["step"] if state.step == "resume" else state.step
    end_conversation(turn.session, state)
    if flow is None or not draft or not flow.title(draft):  # nothing typed yet: nothing to keep
        return turn.say("core.conversation_ended")
    existing = parked_draft(session=turn.session, member_id=turn.who.member_id, flow=flow.name)
    row = existing or ParkedDraft(member_id=turn.who.member_id, flow=flow.name, step=step)
    row.step, row.draft, row.updated_at = step, copy.deepcopy(draft), utcnow()
    flag_modified(row, "draft")
    turn.session.add(row)
    kind = turn.tr.t(KIND_NAMES[flow.name])
    return turn.say("core.draft_kept", kind=kind, title=shorten(flow.title(draft), 60), command=f"/{flow.name}")
