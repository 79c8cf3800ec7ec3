"""Suggestions follow their posts: withdrawing or pausing withdraws the pending ones (the other
side hears "no longer available"), editing scores them again and drops those that no longer fit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import select

from bot.deps import Deps
from handlers.console import Console, console_sender
from storage.models import Delivery, Match, MatchStatus, Post, PostKind

Talk = Callable[..., Console]

OFFER = (
    "We reserved catering contracts for work-integration social enterprises and wrote social clauses "
    "into the public tender; we can share the templates and what we learned."
)
NEED = "We want to reserve public tenders for work-integration social enterprises with social clauses."


@pytest.fixture
def talk(deps: Deps) -> Talk:
    def make(identity: str = "Ana Ruiz@Bilbao City Council") -> Console:
        return Console(deps, console_sender(identity))

    return make


def joined(lines: list[str]) -> str:
    return "\n".join(lines)


def suggested(talk: Talk, deps: Deps) -> tuple[Console, Console, Match, Post]:
    """Bob offers, Ana needs: one instant suggestion between them, nobody has answered yet."""
    bob, ana = talk("Bob@Dublin City Council"), talk()
    for line in ("/offer", "Social clauses in catering tenders", OFFER, "done", "save"):
        bob.say(line)
    for line in ("/need", "Social clauses for tenders", NEED, "done", "save"):
        ana.say(line)
    with deps.sessions() as session:
        [match] = session.exec(select(Match)).all()
        need = session.exec(select(Post).where(Post.kind == PostKind.need)).one()
    assert match.status == MatchStatus.suggested
    return bob, ana, match, need


def notices(deps: Deps) -> list[Delivery]:
    with deps.sessions() as session:
        return list(session.exec(select(Delivery).where(Delivery.kind == "withdrawn")).all())


def status(deps: Deps, match: Match) -> Match:
    with deps.sessions() as session:
        found = session.get(Match, match.id)
        assert found is not None
        return found


def test_editing_scores_again_and_drops_a_pair_that_no_longer_fits(talk: Talk, deps: Deps) -> None:
    bob, ana, match, need = suggested(talk, deps)
    ana.say(f"/edit {need.id}")
    for line in ("edit description", "We want our public buyers to open tenders to social enterprises.", "save"):
        ana.say(line)
    kept = status(deps, match)  # still a fit: kept, scored on the new text
    assert kept.status == MatchStatus.suggested
    assert kept.score != match.score
    assert notices(deps) == []
    ana.say(f"/edit {need.id}")
    for line in ("edit title", "Rooftop beekeeping", "edit description"):
        ana.say(line)
    ana.say("We keep bees on the roofs of schools and want to learn about hive health in winter.")
    for line in ("edit topics", "1", "done", "save"):
        ana.say(line)
    assert status(deps, match).status == MatchStatus.withdrawn
    [notice] = notices(deps)  # Bob hears that the need he was offered is gone
    assert notice.chat == bob.sender.user_id
    assert notice.payload["text"] == f"#{match.id}: “Rooftop beekeeping” (Bilbao City Council) is no longer available."
    assert "No suggestions for you" in joined(bob.say("/matches"))
    assert "is no longer available" in joined(bob.say(f"/accept {match.id}"))


def test_withdrawing_a_post_withdraws_its_suggestions(talk: Talk, deps: Deps) -> None:
    bob, ana, match, need = suggested(talk, deps)
    ana.say(f"/withdraw {need.id}")
    assert status(deps, match).status == MatchStatus.withdrawn
    [notice] = notices(deps)
    assert notice.payload["text"].endswith("“Social clauses for tenders” (Bilbao City Council) is no longer available.")
    assert "one of the two posts is closed" in joined(bob.say(f"/accept {match.id}"))


def test_pausing_withdraws_and_a_new_suggestion_revives_the_pair(talk: Talk, deps: Deps) -> None:
    bob, ana, match, need = suggested(talk, deps)
    bob.say("/pause until 2026-04-01")
    assert status(deps, match).status == MatchStatus.withdrawn
    [notice] = notices(deps)
    assert notice.chat == ana.sender.user_id
    bob.say("/resume")
    ana.say(f"/edit {need.id}")
    saved = joined(ana.say("save"))  # suggested afresh: a new suggestion nobody has answered
    assert f"[/accept {match.id}] Accept #{match.id}" in saved
    assert status(deps, match).status == MatchStatus.suggested
