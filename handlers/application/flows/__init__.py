"""Multi-step conversations as state tables: a step name maps to a handler; state lives in the database.

A conversation's state is a `FlowState`, kept as JSON in `ConversationState.draft` (and in
`ParkedDraft.draft` when another command interrupted it). `from_json` also reads the dict shapes
written before the state was typed, so conversations already in a database carry on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.ports import Reply
from bot.posts import PostDraft
from handlers.application.turn import Turn
from storage.models import PostKind


@dataclass
class Parked:
    """A draft kept from an interrupted conversation, and the step it stood at."""

    step: str
    state: FlowState

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "draft": self.state.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], kind: PostKind) -> Parked:
        return cls(step=str(data.get("step") or "title"), state=FlowState.from_json(data.get("draft") or {}, kind))


@dataclass
class FlowState:
    """Where an offer / need conversation stands: the post so far, a too-long text kept for `trim`,
    whether edits return to the summary, and (at the `resume` step) the parked draft on offer."""

    post: PostDraft
    rejected: str | None = None
    back_to_summary: bool = False
    parked: Parked | None = None

    @property
    def kind(self) -> PostKind:
        return self.post.kind

    def title(self) -> str:
        """The draft's title, the parked one's while asking whether to continue it."""
        return self.parked.state.post.title if self.parked else self.post.title

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "post": self.post.to_json(),
            "rejected": self.rejected,
            "back_to_summary": self.back_to_summary,
        }
        if self.parked is not None:
            data["parked"] = self.parked.to_json()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any], kind: PostKind) -> FlowState:
        """Today's shape, and the older ones: `{"kind", "parked"}` at the resume step had no `post`."""
        post = data.get("post")
        found = PostDraft.from_json(post) if isinstance(post, Mapping) and post.get("kind") else None
        own_kind = found.kind if found else PostKind(data.get("kind") or kind)
        parked = data.get("parked")
        return cls(
            post=found or PostDraft(kind=own_kind),
            rejected=data.get("rejected") or None,
            back_to_summary=bool(data.get("back_to_summary")),
            parked=Parked.from_json(parked, own_kind) if isinstance(parked, Mapping) else None,
        )


@dataclass
class Outcome:
    """What a step decided: the next step (None ends the conversation), what to say, and a state
    replacing the one the step was given (a parked draft taken up again, a fresh start)."""

    step: str | None
    replies: list[Reply] = field(default_factory=list)
    state: FlowState | None = None


StepHandler = Callable[[Turn, str, FlowState], Outcome]


@dataclass(frozen=True)
class Flow:
    """A conversation: its steps, and how to say where the person stands when they come back."""

    name: str
    steps: Mapping[str, StepHandler]
    prompt: Callable[[Turn, str, FlowState], list[Reply]]  # re-ask the current step

    @property
    def kind(self) -> PostKind:
        return PostKind(self.name)

    def load(self, data: Mapping[str, Any]) -> FlowState:
        return FlowState.from_json(data, self.kind)
