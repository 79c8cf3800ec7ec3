"""Multi-step conversations as state tables: a step name maps to a handler; state lives in the database."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.ports import Reply
from handlers.application.turn import Turn


@dataclass
class Outcome:
    """What a step decided: the next step (None ends the conversation) and what to say."""

    step: str | None
    replies: list[Reply] = field(default_factory=list)


Draft = dict[str, Any]
StepHandler = Callable[[Turn, str, Draft], Outcome]


@dataclass(frozen=True)
class Flow:
    """A conversation: its steps, and how to say where the person stands when they come back."""

    name: str
    steps: Mapping[str, StepHandler]
    prompt: Callable[[Turn, str, Draft], list[Reply]]  # re-ask the current step
    title: Callable[[Draft], str]  # a short name of the draft, for "your unfinished ..." notes
