"""Running flows: start, continue, park and end conversations whose state is a database row."""

from __future__ import annotations

from sqlmodel import Session

from bot.errors import UserError
from bot.ports import Reply
from bot.posts import OVER_BUDGET, PostDraft
from bot.text import shorten
from handlers.application.flows import Flow, FlowState, Outcome, Parked
from handlers.application.flows.post import (
    KIND_KEYS,
    NEED,
    OFFER,
    first_step,
    new_state,
    on_title,
    prompt,
    save_post,
    summary_reply,
)
from handlers.application.turn import Turn
from storage.models import ConversationState, ParkedDraft, Post
from storage.queries import conversation_state, parked_draft
from storage.types import utcnow

FLOWS: dict[str, Flow] = {OFFER.name: OFFER, NEED.name: NEED}


def start_flow(turn: Turn, flow: Flow, args: str, post: Post | None = None) -> list[Reply]:
    """Begin an offer/need (or edit `post`); a parked draft of the same kind is offered back first."""
    if not turn.incoming.is_private:
        return [Reply(text=turn.tr.t("core.continue_in_private"), private_link=True)]
    parked = None if post else parked_draft(session=turn.session, member_id=turn.who.member_id, flow=flow.name)
    if parked is not None:
        kept = Parked(step=parked.step, state=flow.load(parked.draft))
        state = FlowState(post=new_state(flow.kind).post, parked=kept)
        turn.session.delete(parked)
        outcome = Outcome("resume", flow.prompt(turn, "resume", state))
    else:
        state = new_state(flow.kind, post)
        step = first_step(turn.who, state)
        outcome = on_title(turn, args, state) if step == "title" and args else Outcome(step, prompt(turn, step, state))
    save_state(turn, _new_row(turn, flow), outcome, state)
    return outcome.replies


def current_state(turn: Turn) -> ConversationState | None:
    """The conversation going on in this chat with this person, if any."""
    chat, sender = turn.incoming.chat, turn.incoming.sender
    return conversation_state(
        session=turn.session,
        platform=chat.platform,
        workspace=chat.workspace,
        chat=chat.chat,
        user_id=sender.user_id,
    )


def submit_post(turn: Turn, draft: PostDraft, *, organisation: str | None) -> list[Reply]:
    """A post filled in all at once (the Slack modal), saved the way the conversation saves one.
    Over the person's hourly budget of new posts (`bot.posts.check_budget`) nothing is lost: the
    draft waits in this chat as a conversation at its summary, as a conversation's own draft does,
    and its Save button keeps it once the hour allows."""
    try:
        return save_post(turn, draft, organisation=organisation)
    except UserError as problem:
        if problem.key != OVER_BUDGET:
            raise
        said = turn.say(problem.key, **problem.values)
    current = current_state(turn)
    notes = [park(turn, current)] if current is not None else []
    state = FlowState(post=draft)
    save_state(turn, _new_row(turn, FLOWS[draft.kind.value]), Outcome("summary"), state)
    return [said, *notes, summary_reply(turn, state)]


def _new_row(turn: Turn, flow: Flow) -> ConversationState:
    chat = turn.incoming.chat
    return ConversationState(
        platform=chat.platform,
        workspace=chat.workspace,
        chat=chat.chat,
        user_id=turn.incoming.sender.user_id,
        flow=flow.name,
        step="",
    )


def save_state(turn: Turn, row: ConversationState, outcome: Outcome, state: FlowState) -> None:
    """Keep where the conversation stands (the step's replacement state, if it gave one)."""
    if outcome.step is None:
        end_conversation(turn.session, row)
        return
    row.step = outcome.step
    row.draft = (outcome.state or state).to_json()  # a new dict: SQLAlchemy sees the change
    row.updated_at = utcnow()
    turn.session.add(row)


def end_conversation(session: Session, row: ConversationState) -> None:
    if row.id is not None:
        session.delete(row)
    session.flush()


def park(turn: Turn, row: ConversationState) -> Reply:
    """Keep an interrupted conversation's draft for next time, and say so."""
    flow = FLOWS.get(row.flow)
    end_conversation(turn.session, row)
    if flow is None:
        return turn.say("core.conversation_ended")
    state = flow.load(row.draft)
    step = row.step
    if row.step == "resume" and state.parked is not None:  # still asking: the parked draft stays parked
        step, state = state.parked.step, state.parked.state
    if not state.post.title:  # nothing typed yet: nothing to keep
        return turn.say("core.conversation_ended")
    existing = parked_draft(session=turn.session, member_id=turn.who.member_id, flow=flow.name)
    kept = existing or ParkedDraft(member_id=turn.who.member_id, flow=flow.name, step=step)
    kept.step, kept.draft, kept.updated_at = step, state.to_json(), utcnow()
    turn.session.add(kept)
    kind = turn.tr.t(KIND_KEYS[flow.kind])
    return turn.say("core.draft_kept", kind=kind, title=shorten(state.post.title, 60), command=f"/{flow.name}")
