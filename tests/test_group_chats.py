"""Group chats are the adapter's addressing: the kernel asks `Deps.group_chats`, and a platform that
gives none gets one introduction per person."""

from __future__ import annotations

from bot.deps import Deps
from handlers.slack.addresses import group_chat
from tests.test_matches import ANA, BOB, deliveries, match_id, say

__all__ = ["match_id"]  # the fixture, shared with the match tests


def test_the_slack_adapter_names_the_group_dm(deps: Deps, match_id: int) -> None:
    assert deps.group_chats == {"slack": group_chat}  # registered by the composition root
    say(deps, ANA, f"/accept {match_id}")
    say(deps, BOB, f"/accept {match_id}")
    [intro] = deliveries(deps)
    assert intro.chat == group_chat("T1", ["UBOB", "UANA"]).chat


def test_without_a_group_chat_each_person_is_told_alone(deps: Deps, match_id: int) -> None:
    deps.group_chats.clear()
    say(deps, ANA, f"/accept {match_id}")
    say(deps, BOB, f"/accept {match_id}")
    assert sorted(row.chat for row in deliveries(deps)) == ["UANA", "UBOB"]
