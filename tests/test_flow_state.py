"""The typed conversation state: what older versions stored still loads, and a conversation carries
on at the same step after a restart."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.config import Settings
from bot.deps import Deps
from bot.posts import PostDraft
from bot.runtime.compose import build_deps
from handlers.application.flows import FlowState, Parked
from handlers.console import WORKSPACE, Console, console_sender
from storage.db import transaction
from storage.models import ConversationState, ParkedDraft, Post, PostFormat, PostKind
from tests.conftest import FakeClock

ANA = "Ana Ruiz@Bilbao City Council"
DESCRIPTION = "We wrote social clauses into our tenders and can share the templates and contracts."

# The dict shapes written before the state was typed (rows like these sit in databases today).
OLD_POST = {
    "kind": "offer",
    "title": "Social clauses in tenders",
    "description": "",
    "topics": ["public-procurement", "no-such-topic"],
    "format": "call",
    "available_until": None,
    "language": None,
    "post_id": None,
}
OLD_DRAFT: dict[str, Any] = {"post": OLD_POST, "rejected": None, "back_to_summary": False}
OLD_RESUME: dict[str, Any] = {"kind": "offer", "parked": {"step": "description", "draft": OLD_DRAFT}}


def test_the_old_dict_shapes_load() -> None:
    state = FlowState.from_json(OLD_DRAFT, PostKind.need)
    assert state.post.kind == PostKind.offer  # the stored kind wins over the flow's default
    assert state.post.title == "Social clauses in tenders"
    assert state.post.topics == ["public-procurement"]  # topics we no longer know are dropped
    assert state.post.format == PostFormat.call
    assert state.parked is None
    resume = FlowState.from_json(OLD_RESUME, PostKind.offer)
    assert resume.kind == PostKind.offer
    assert resume.parked is not None
    assert resume.parked.step == "description"
    assert resume.parked.state.post.title == "Social clauses in tenders"
    assert resume.title() == "Social clauses in tenders"


def test_a_state_survives_its_json() -> None:
    kept = FlowState(post=PostDraft(kind=PostKind.need, title="Kept"), rejected="x" * 130)
    state = FlowState(
        post=PostDraft(kind=PostKind.need, title="New", topics=["housing"], format=PostFormat.workshop),
        back_to_summary=True,
        parked=Parked(step="title", state=kept),
    )
    assert FlowState.from_json(state.to_json(), PostKind.offer) == state


def _write_state(deps: Deps, user_id: str, step: str, draft: dict[str, Any]) -> None:
    with transaction(deps.sessions) as session:
        session.add(
            ConversationState(
                platform="console",
                workspace=WORKSPACE,
                chat=user_id,
                user_id=user_id,
                flow="offer",
                step=step,
                draft=draft,
            )
        )


def test_an_old_resume_row_continues_through_the_dispatcher(deps: Deps) -> None:
    ana = Console(deps, console_sender(ANA))
    ana.say("/help")  # Ana exists, with her organisation
    _write_state(deps, ana.sender.user_id, "resume", OLD_RESUME)
    assert "describe your offer" in ana.say("continue")[0]
    ana.say(DESCRIPTION)
    ana.say("done")
    assert "Saved your offer #" in ana.say("save")[0]
    with deps.sessions() as session:
        post = session.exec(select(Post)).one()
        assert post.title == "Social clauses in tenders"
        assert session.exec(select(ConversationState)).all() == []


def test_an_old_row_is_parked_by_another_command_and_offered_back(deps: Deps) -> None:
    ana = Console(deps, console_sender(ANA))
    ana.say("/help")
    _write_state(deps, ana.sender.user_id, "description", OLD_DRAFT)
    assert "Social clauses in tenders" in ana.say("/need")[0]  # "your unfinished offer ... is kept"
    with deps.sessions() as session:
        parked = session.exec(select(ParkedDraft)).one()
        assert parked.step == "description"
    ana.say("/cancel")
    assert "Social clauses in tenders" in ana.say("/offer")[0]  # continue it, or start over?
    assert "describe your offer" in ana.say("continue")[0]


def test_a_conversation_continues_after_a_restart(settings: Settings, clock: FakeClock) -> None:
    first = build_deps(settings, clock=clock, migrate=False)
    Console(first, console_sender(ANA)).say("/offer")
    Console(first, console_sender(ANA)).say("Social clauses in tenders")
    first.engine.dispose()  # the process ends; only the database remembers

    second = build_deps(settings, clock=clock, migrate=False)
    try:
        ana = Console(second, console_sender(ANA))
        assert "1. Public procurement" in ana.say(DESCRIPTION)[0]  # the topics step, after the description
        assert "Title: Social clauses in tenders" in ana.say("done")[0]
        assert "Saved your offer #" in ana.say("save")[0]
        with second.sessions() as session:
            post = session.exec(select(Post)).one()
            assert (post.title, post.description) == ("Social clauses in tenders", DESCRIPTION)
    finally:
        second.engine.dispose()
