"""OAuth mode: each installed workspace is its own partnership until a facilitator links them with
`/peer link`; then matching, exports, digests and homes see both workspaces as one."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import select

from bot.i18n import translator
from bot.runtime.compose import build_deps
from bot.runtime.web import build_web_app
from storage.models import Community, Delivery, Identity, Member, Post, Workspace
from storage.queries import default_community
from tests.conftest import FakeClock
from tests.slack_standin import Call, Served, SlackHarness, SlackStandIn, slack_settings, view_submission
from tests.waiting import PATIENCE, wait_until

EN = translator("en")
ALPHA, BETA = "T0ALPHA", "T0BETA"
TEAMS = {"code-alpha": (ALPHA, "Alpha"), "code-beta": (BETA, "Beta")}

# slack_sdk's oauth.v2.access still uses aiohttp's BasicAuth, deprecated in aiohttp 3.14: theirs, harmless
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


class TwoTeams(SlackStandIn):
    """Slack, where the OAuth code says which workspace is installing (each with its own token)."""

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        found = super().answer(method, params)
        if method == "oauth.v2.access":
            team, name = TEAMS[str(params.get("code"))]
            found |= {"access_token": f"xoxb-{team}", "team": {"id": team, "name": name}}
        return found


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    running = TwoTeams().start()
    for user, admin in (("UA1", True), ("UA2", False), ("UB1", True), ("UB2", False)):
        running.add_user(user, admin=admin, name=user)
    yield running
    running.stop()


@pytest.fixture
def slack(database_url: str, standin: SlackStandIn) -> Iterator[SlackHarness]:
    with two_workspaces(database_url, standin, FakeClock()) as harness:
        yield harness


@contextmanager
def two_workspaces(database_url: str, standin: SlackStandIn, clock: FakeClock) -> Iterator[SlackHarness]:
    """The serve app with Slack's OAuth on, installed in the workspaces ALPHA and BETA."""
    settings = slack_settings(
        database_url, standin, slack_bot_token=None, slack_client_id="111.222", slack_client_secret="secret"
    )
    deps = build_deps(settings, clock=clock, migrate=False)
    with Served(build_web_app(deps)) as served, httpx.Client(base_url=served.url, timeout=PATIENCE) as http:
        harness = SlackHarness(deps, standin, http, served)
        install(harness, "code-alpha")
        install(harness, "code-beta")
        yield harness
    deps.engine.dispose()


def install(slack: SlackHarness, code: str) -> None:
    page = slack.http.get("/slack/install")
    link = re.search(r'href="([^"]*/oauth/v2/authorize\?[^"]+)"', page.text)
    assert link is not None
    state = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)["state"][0]
    cookie = page.headers["set-cookie"].split(";")[0]
    back = slack.http.get("/slack/oauth_redirect", params={"code": code, "state": state}, headers={"Cookie": cookie})
    assert back.status_code == 200


def command(slack: SlackHarness, team: str, user: str, text: str, name: str = "/peer") -> str:
    """A slash command; the text of its (ephemeral) answer."""
    since = slack.standin.mark()
    assert slack.command(name, text, team=team, user=user, channel=f"C{team}").status_code == 200
    return str(slack.standin.wait_for_prefix("respond:", since=since)[0].params["text"])


def post(slack: SlackHarness, team: str, user: str, kind: str, title: str, description: str) -> list[str]:
    """`/offer` or `/need`, then the modal submitted: the texts of the private confirmation."""
    opened = len(slack.standin.calls_to("views.open"))
    slack.command(f"/{kind}", "", team=team, user=user)
    raw = slack.standin.wait_for("views.open", opened + 1)[-1].params["view"]
    view = json.loads(raw) if isinstance(raw, str) else raw
    values = {
        "organisation": {"value": {"type": "plain_text_input", "value": f"Org {user}"}},
        "title": {"value": {"type": "plain_text_input", "value": title}},
        "description": {"value": {"type": "plain_text_input", "value": description}},
        "topics": {"value": {"type": "multi_static_select", "selected_options": [{"value": "public-procurement"}]}},
        "format": {"value": {"type": "static_select", "selected_option": {"value": "call"}}},
    }
    since = slack.standin.mark()
    assert slack.interact(view_submission(view, values, user=user, team=team)).status_code == 200
    calls = slack.standin.wait_for("chat.postMessage", 2, since=since)  # "saved", then the suggestions
    return [str(call.params["text"]) for call in calls]


def communities(slack: SlackHarness) -> dict[str, int]:
    with slack.deps.sessions() as session:
        return {w.external_id: w.community_id for w in session.exec(select(Workspace)).all()}


NEED = ("Social clauses in public procurement", "How do we write social clauses into public tenders?")
OFFER = ("Public procurement with social clauses", "We wrote social clauses for public tenders and trained buyers.")


def test_installed_workspaces_are_separate_partnerships_until_linked(slack: SlackHarness) -> None:
    with slack.deps.sessions() as session:
        default = default_community(session=session).id
        names = {c.id: c.name for c in session.exec(select(Community)).all()}
    before = communities(slack)
    assert before[ALPHA] != before[BETA]
    assert default not in (before[ALPHA], before[BETA])
    assert (names[before[ALPHA]], names[before[BETA]]) == ("Alpha", "Beta")

    post(slack, ALPHA, "UA2", "offer", *OFFER)
    assert post(slack, BETA, "UB2", "need", *NEED)[1] == EN.t("core.suggestions_none")  # Alpha's offer is not Beta's
    none = {"suggestions": EN.n("matching.round_suggestions", 0), "for_needs": EN.n("matching.round_for_needs", 0)}
    empty = EN.t("core.round_header", **none)
    assert command(slack, BETA, "UB1", "match preview").startswith(empty)

    assert command(slack, BETA, "UB2", "link") == EN.t("core.peer_refused")
    answer = command(slack, ALPHA, "UA1", "link")
    code = re.search(r"/peer link ([A-Z0-9-]{14})", answer)
    assert code is not None
    assert "Alpha" in answer
    assert command(slack, BETA, "UB1", "link WRONG-CODE") == EN.t("partnership.code_unknown")
    joined = command(slack, BETA, "UB1", f"link {code.group(1)}")
    assert joined.endswith("Moved: 2 members and 1 post; 0 organisations with the same name were merged.")
    assert command(slack, BETA, "UB1", f"link {code.group(1)}") == EN.t("partnership.code_used")

    after = communities(slack)
    assert after[ALPHA] == after[BETA] == before[ALPHA]
    with slack.deps.sessions() as session:
        assert session.get(Community, before[BETA]) is None
        assert {m.community_id for m in session.exec(select(Member)).all()} == {before[ALPHA]}
    assert command(slack, BETA, "UB1", "match preview").startswith("Next round: 1 suggestion for 1 need.")
    _exports_and_digests_see_both(slack)


def _exports_and_digests_see_both(slack: SlackHarness) -> None:
    since = slack.standin.mark()
    slack.command("/peer", "export", team=BETA, user="UB1")  # the file goes to the private chat
    slack.standin.wait_for("files.completeUploadExternal", since=since)
    content = slack.standin.wait_for_prefix("upload:", since=since)[0].params["content"]
    titles = {row["title"] for row in csv.DictReader(io.StringIO(content.decode("utf-8-sig")))}
    assert titles == {NEED[0], OFFER[0]}

    assert command(slack, ALPHA, "UA1", "channel here") == EN.t("core.channel_set", community="Alpha")
    homes = slack.standin.mark()
    command(slack, ALPHA, "UA1", "digest now")
    with slack.deps.sessions() as session:
        digest = session.exec(select(Delivery).where(Delivery.kind == "digest")).one()
    assert digest.chat == f"C{ALPHA}"
    assert NEED[0] in json.dumps(digest.payload)
    assert OFFER[0] in json.dumps(digest.payload)
    # the round suggested a match to UB2 (Beta) and UA2 (Alpha): every home of the partnership is
    # redrawn at once, each through its own workspace's installation
    everyone = {("UA1", f"xoxb-{ALPHA}"), ("UA2", f"xoxb-{ALPHA}"), ("UB1", f"xoxb-{BETA}"), ("UB2", f"xoxb-{BETA}")}

    def drawn() -> set[tuple[str, str | None]]:
        return {(c.params["user_id"], c.token) for c in slack.standin.calls_since(homes) if c.method == "views.publish"}

    wait_until(lambda: everyone <= drawn(), what="every home redrawn", seen=drawn)
    assert drawn() == everyone

    def suggests_the_offer(call: Call) -> bool:  # UB2's home after the round: the suggestion, to answer
        home = call.params["view"]
        return call.params["user_id"] == "UB2" and OFFER[0] in (home if isinstance(home, str) else json.dumps(home))

    slack.standin.wait_for("views.publish", since=homes, where=suggests_the_offer)


def test_a_code_expires_after_a_week(slack: SlackHarness) -> None:
    answer = command(slack, ALPHA, "UA1", "link")
    code = re.search(r"/peer link ([A-Z0-9-]{14})", answer)
    assert code is not None
    clock = slack.deps.clock
    assert isinstance(clock, FakeClock)
    clock.advance(days=8)
    assert command(slack, BETA, "UB1", f"link {code.group(1)}") == EN.t("partnership.code_expired")
    assert command(slack, ALPHA, "UA1", f"link {code.group(1)}") == EN.t("partnership.code_expired")
    assert communities(slack)[ALPHA] != communities(slack)[BETA]
    with slack.deps.sessions() as session:
        assert len(session.exec(select(Post)).all()) == 0


def test_one_workspace_cannot_change_or_see_roles_in_another(slack: SlackHarness) -> None:
    """Before they are linked, Alpha's admin finds nobody of Beta: no role changes, no names learnt,
    and nobody created for an id that never wrote."""
    slack.standin.add_user("UB3", name="Beatriz Reservada")
    command(slack, BETA, "UB3", "", name="/help")  # Beatriz writes in Beta once
    assert "is now a facilitator" in command(slack, BETA, "UB1", "role <@UB3|beatriz> facilitator")
    assert "is now a facilitator" not in command(slack, BETA, "UB2", "role <@UB2> facilitator")  # not an admin

    for target in ("<@UB3|beatriz>", "<@UB1>", "<@UNEVER>"):
        answer = command(slack, ALPHA, "UA1", f"role {target} member")
        shown = target.replace("<", "&lt;").replace(">", "&gt;")  # Slack's mrkdwn escaping of user text
        assert answer == EN.t("membership.role_not_here", user=shown)
        assert "Beatriz" not in answer
    with slack.deps.sessions() as session:
        beatriz = session.exec(select(Member).where(Member.display_name == "Beatriz Reservada")).one()
        assert beatriz.role.value == "facilitator"
        assert beatriz.community_id == communities(slack)[BETA]
        assert session.exec(select(Identity).where(Identity.user_id == "UNEVER")).first() is None
    assert command(slack, BETA, "UB3", "help").startswith("For facilitators")  # still Beta's facilitator
