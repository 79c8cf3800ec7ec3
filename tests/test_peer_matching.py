"""Facilitators preview and post a round and propose working groups, on the demo partnership."""

from __future__ import annotations

from sqlmodel import func, select

from bot.demo import load_demo
from bot.deps import Deps
from bot.ports import Address, Incoming, Sender
from handlers.application.conversation import Conversations
from storage.models import Delivery, Match, WorkingGroup

FACILITATOR = Sender(platform="slack", workspace="T1", user_id="UFAC", display_name="Fay", is_platform_admin=True)
CHANNEL = Address(platform="slack", workspace="T1", chat="CPEERS")


def say(deps: Deps, text: str) -> str:
    replies = Conversations(deps).handle(Incoming(sender=FACILITATOR, chat=CHANNEL, text=text, is_private=False))
    return "\n".join(reply.text for reply in replies)


def count(deps: Deps, table: type) -> int:
    with deps.sessions() as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_preview_post_and_groups(deps: Deps) -> None:
    with deps.sessions() as session:
        load_demo(session, deps.encoder)
        session.commit()
    preview = say(deps, "/peer match preview")
    assert preview.startswith("Next round: ")
    assert "• " in preview
    assert "%" in preview
    assert count(deps, Match) == 0  # a preview records nothing

    assert "channel" in say(deps, "/peer match post").lower()  # no community channel yet: told how
    say(deps, "/peer channel here")
    say(deps, "/peer match post")
    assert count(deps, Match) > 0
    assert count(deps, Delivery) == 1

    groups = say(deps, "/peer groups 3-5")
    assert "Group 1" in groups or "1." in groups
    assert count(deps, WorkingGroup) == 0
    say(deps, "/peer groups save 3-5")
    assert count(deps, WorkingGroup) > 0
    assert "/peer groups" in say(deps, "/peer groups two-ish")
    assert "/peer match preview" in say(deps, "/peer match")
