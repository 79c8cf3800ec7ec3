"""From a post to a conversation between two Slack workspaces of one partnership (two OAuth
installations linked with `/peer link`), through the real bolt App over signed HTTP and the outbox:
each side reads the other's name and how to answer (no mention: a user id of another workspace means
nothing there), thread replies pass both ways through each workspace's own token, and `/close` ends
it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlmodel import select

from bot.i18n import translator
from handlers.slack.mrkdwn import escape
from storage.models import Delivery
from tests.conftest import FakeClock
from tests.slack_standin import SlackHarness, SlackStandIn
from tests.test_slack_partnerships import ALPHA, BETA, TwoTeams, two_workspaces
from tests.walk_support import NEED, OFFER, SlackPerson, deliver, home_buttons

EN = translator("en")

# slack_sdk's oauth.v2.access still uses aiohttp's BasicAuth, deprecated in aiohttp 3.14: theirs, harmless
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    running = TwoTeams().start()
    for user, name, admin in (
        ("UA1", "Alba", True),
        ("UA2", "Ana", False),
        ("UB1", "Bea", True),
        ("UB2", "Bruno", False),
    ):
        running.add_user(user, admin=admin, name=name)
    yield running
    running.stop()


@pytest.fixture
def slack(database_url: str, standin: SlackStandIn, clock: FakeClock) -> Iterator[SlackHarness]:
    with two_workspaces(database_url, standin, clock) as harness:
        yield harness


def _thread_of(slack: SlackHarness, person: SlackPerson, piece: str) -> str:
    """Slack's ts of the introduction we delivered to `person` holding `piece` (kept by the outbox)."""
    with slack.deps.sessions() as session:
        rows = session.exec(select(Delivery).where(Delivery.workspace == person.team)).all()
    [ts] = [row.message_id for row in rows if piece in row.payload["text"] and row.kind == "introduction"]
    assert ts is not None
    return ts


async def test_two_workspaces_of_one_partnership_meet_and_write_to_each_other(
    slack: SlackHarness, clock: FakeClock
) -> None:
    alba, bea = SlackPerson(slack, "UA1", ALPHA), SlackPerson(slack, "UB1", BETA)
    code = re.search(r"/peer link ([A-Z0-9-]{14})", alba.command("link", "/peer"))
    assert code is not None
    assert bea.command(f"link {code.group(1)}", "/peer").startswith("Done: this workspace is now part of Alpha.")

    ana, bruno = SlackPerson(slack, "UA2", ALPHA), SlackPerson(slack, "UB2", BETA)
    assert ana.posts("offer", "Ajuntament de Barcelona", *OFFER).params["text"] == escape(EN.t("core.suggestions_none"))
    suggestion = bruno.posts("need", "Bruxelles Environnement", *NEED)
    assert OFFER[0] in suggestion.params["text"]
    [number] = {int(found) for found in re.findall(r"/accept (\d+)", str(suggestion.params["blocks"]))}

    bruno.presses(f"/accept {number}", escape(EN.t("core.match_accepted", number=number)))
    assert f"/accept {number}" in home_buttons(ana.home(NEED[0]))
    ana.presses(f"/accept {number}", escape(EN.t("core.match_introduced", number=number)))
    await deliver(slack.deps, clock)

    how = EN.t("core.relay_how_slack", number=number)
    for reader, other in ((ana, "Bruno (Bruxelles Environnement)"), (bruno, "Ana (Ajuntament de Barcelona)")):
        [intro] = reader.received("Meet ")
        person = EN.t("core.introduction_person", person=other, reach=EN.t("core.reach_relay", how=how))
        assert person in intro.params["text"]
        assert "<@" not in intro.params["text"]  # a user id of the other workspace means nothing here
        assert intro.token == f"xoxb-{reader.team}"  # each workspace through its own installation

    # Bruno answers in his introduction's thread; Ana in hers: each reaches the other workspace.
    sent = escape(EN.t("core.relay_sent", number=number))
    bruno.writes("Bonjour &amp; merci &lt;3 <!here>", sent, thread=_thread_of(slack, bruno, "Meet Ana"))
    bruno.writes("Mardi ?", sent, thread=_thread_of(slack, bruno, "Meet Ana"))
    await deliver(slack.deps, clock)
    relayed = ana.received(f"writes about #{number}")
    assert [call.params["text"].split("\n")[1] for call in relayed] == ["Bonjour &amp; merci &lt;3 @here", "Mardi ?"]
    assert {call.token for call in relayed} == {f"xoxb-{ALPHA}"}
    ana.writes("Dimarts, perfecte", sent, thread=_thread_of(slack, ana, "Meet Bruno"))
    await deliver(slack.deps, clock)
    [answer] = bruno.received(f"writes about #{number}")
    assert answer.params["text"].startswith(f"Ana (Ajuntament de Barcelona) writes about #{number}:\nDimarts, perfecte")
    assert answer.token == f"xoxb-{BETA}"

    # Ana closes it with the slash command; Bruno is told, and his next answer is refused politely.
    assert ana.command(str(number), "/close", channel=ana.dm) == EN.t("core.relay_closed_by_you", number=number)
    await deliver(slack.deps, clock)
    assert len(bruno.received(escape(EN.t("core.relay_closed_by_other", number=number)))) == 1
    bruno.writes(
        "Encore là ?", escape(EN.t("core.relay_closed", number=number)), thread=_thread_of(slack, bruno, "Meet Ana")
    )
    await deliver(slack.deps, clock)
    assert ana.received("Encore") == []
