"""Two Slack members of one workspace are introduced in a group DM where each is named as a real
Slack mention: the kernel marks who is named (a neutral `Mention`), the Slack adapter renders it,
and nothing a person typed can become a mention or a broadcast."""

from __future__ import annotations

import re

from sqlmodel import select

from bot.i18n import translator
from handlers.slack.mrkdwn import escape
from storage.models import Delivery
from tests import slack_standin
from tests.conftest import FakeClock
from tests.slack_standin import SlackHarness
from tests.walk_support import NEED, OFFER, SlackPerson, deliver, home_buttons

slack = slack_standin.slack  # fixtures: the real app over HTTP, the Slack stand-in
standin = slack_standin.standin
EN = translator("en")


async def test_members_of_one_workspace_are_introduced_with_mentions(slack: SlackHarness) -> None:
    ana, bruno = SlackPerson(slack, "U1"), SlackPerson(slack, "U2")
    ana.posts("offer", "Dublin <!channel> & Co", *OFFER)
    suggestion = bruno.posts("need", "Cooperativa <@U9> Habitar", *NEED)
    [number] = {int(found) for found in re.findall(r"/accept (\d+)", str(suggestion.params["blocks"]))}
    bruno.presses(f"/accept {number}", escape(EN.t("core.match_accepted", number=number)))
    assert f"/accept {number}" in home_buttons(ana.home(NEED[0]))
    ana.presses(f"/accept {number}", escape(EN.t("core.match_introduced", number=number)))
    clock = slack.deps.clock
    assert isinstance(clock, FakeClock)
    await deliver(slack.deps, clock)

    [intro] = [
        call
        for call in slack.standin.calls_to("chat.postMessage")
        if str(call.params.get("text", "")).startswith(EN.t("core.introduction_both", number=number))
    ]
    assert intro.params["channel"].startswith("G")  # one group DM for both, opened with conversations.open
    text = intro.params["text"]
    here = EN.t("core.reach_here")
    assert EN.t("core.introduction_person", person="<@U1> (Dublin &lt;!channel&gt; &amp; Co)", reach=here) in text
    assert EN.t("core.introduction_person", person="<@U2> (Cooperativa &lt;@U9&gt; Habitar)", reach=here) in text
    assert sorted(re.findall(r"<[^>]*>", text)) == ["<@U1>", "<@U2>"]  # ours, and nothing typed

    with slack.deps.sessions() as session:
        row = session.exec(select(Delivery).where(Delivery.kind == "introduction")).one()
    assert "<@" not in row.payload["text"].replace("<@U9>", "")  # the kernel wrote names, not Slack markup
    named = [(row.payload["text"][start:end], user) for start, end, user in row.payload["mentions"]]
    assert named == [("Bruno", "U2"), ("Ana", "U1")]  # the need's side first, as the text names them
