"""People walking from a post to a conversation, each on their own platform, doing what they would:
a Slack officer fills in the `/offer` modal, opens the App Home and presses Accept, answers in a
thread; a Telegram member writes to the bot, presses buttons and replies to a message. Everything
goes through the real adapters (bolt over signed HTTP, PTB long polling) against the stand-ins, and
every step waits for the answer it means (tests/README.md)."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.deps import Deps
from bot.i18n import Translator, translator
from handlers.slack.mrkdwn import escape
from schedules.outbox import Dispatcher
from tests import slack_standin, telegram_standin
from tests.conftest import FakeClock
from tests.schedules_support import clock_sleep, drain_all
from tests.slack_standin import TEAM, SlackHarness, view_submission
from tests.telegram_standin import StandIn, buttons

TOPIC = "public-procurement"
# An offer in English and a need in Spanish that the matcher pairs (the same topic, in two languages).
OFFER = (
    "Social clauses in public procurement",
    "We wrote social clauses for public tenders that reserve contracts for social economy enterprises.",
)
NEED = (
    "Cláusulas sociales en la contratación pública",
    "Queremos reservar contratos públicos a empresas de economía social con cláusulas sociales en las licitaciones.",
)


async def deliver(deps: Deps, clock: FakeClock) -> None:
    """`peerlink worker`'s outbox: everything due is sent through the real notifiers."""
    await drain_all(deps, Dispatcher(deps, sleep=clock_sleep(clock)), clock)


def button_value(values: list[str], prefix: str) -> str:
    [found] = [value for value in values if value.startswith(prefix)]
    return found


# --- Slack ------------------------------------------------------------------------------------------


def _view(raw: Any) -> dict[str, Any]:
    return json.loads(raw) if isinstance(raw, str) else dict(raw)


@dataclass
class SlackPerson:
    slack: SlackHarness
    user: str
    team: str = TEAM
    language: str = "en"

    @property
    def tr(self) -> Translator:
        return translator(self.language)

    @property
    def dm(self) -> str:
        return f"D{self.user}"  # the stand-in's private chat with the bot (conversations.open)

    def in_dm(self, expect: str, *, since: int) -> slack_standin.Call:
        """The message in this person's private chat, after `since`, whose text holds `expect`
        (as sent: mrkdwn-escaped)."""

        def meant(call: slack_standin.Call) -> bool:
            return call.params.get("channel") in {self.dm, self.user} and expect in str(call.params.get("text", ""))

        return self.slack.standin.wait_for("chat.postMessage", since=since, where=meant)[0]

    def posts(self, kind: str, organisation: str, title: str, description: str) -> slack_standin.Call:
        """`/offer` or `/need`, then the modal filled in and submitted with a signed request; returns
        the private answer with the instant suggestions, once the contact question after it came."""
        opened = self.slack.standin.mark()
        assert self.slack.command(f"/{kind}", "", team=self.team, user=self.user).status_code == 200
        view = _view(self.slack.standin.wait_for("views.open", since=opened)[0].params["view"])
        values = {
            "organisation": {"value": {"type": "plain_text_input", "value": organisation}},
            "title": {"value": {"type": "plain_text_input", "value": title}},
            "description": {"value": {"type": "plain_text_input", "value": description}},
            "topics": {"value": {"type": "multi_static_select", "selected_options": [{"value": TOPIC}]}},
            "format": {"value": {"type": "static_select", "selected_option": {"value": "call"}}},
        }
        since = self.slack.standin.mark()
        assert self.slack.interact(view_submission(view, values, user=self.user, team=self.team)).status_code == 200
        self.in_dm("/contact", since=since)  # the last answer to a first post: how may peers reach you?
        suggested = (escape(self.tr.t("core.suggestions_header")), escape(self.tr.t("core.suggestions_none")))
        [found] = [
            call
            for call in self.slack.standin.calls_since(since)
            if call.method == "chat.postMessage" and str(call.params.get("text", "")).startswith(suggested)
        ]
        return found

    def command(self, text: str, name: str, *, channel: str | None = None) -> str:
        """A slash command; the text of its ephemeral answer."""
        since = self.slack.standin.mark()
        sent = self.slack.command(name, text, team=self.team, user=self.user, channel=channel or f"C{self.team}")
        assert sent.status_code == 200
        return str(self.slack.standin.wait_for_prefix("respond:", since=since)[0].params["text"])

    def writes(self, text: str, expect: str, *, thread: str | None = None) -> slack_standin.Call:
        """A message in the private chat with the bot (as Slack sends it: `&`, `<`, `>` escaped,
        `@channel` as `<!channel>`), in the thread of message `thread` when given; returns the answer
        holding `expect`."""
        event = {
            "type": "message",
            "channel_type": "im",
            "channel": self.dm,
            "user": self.user,
            "text": text,
            "ts": f"{time.time():.6f}",
            "team": self.team,
        }
        if thread is not None:
            event["thread_ts"] = thread
        since = self.slack.standin.mark()
        body = slack_standin.event_body(event, team=self.team)
        assert self.slack.post(body, content_type="application/json").status_code == 200
        return self.in_dm(expect, since=since)

    def home(self, expect: str) -> dict[str, Any]:
        """Opens the App Home tab; the home drawn for them, once it shows `expect`."""
        since = self.slack.standin.mark()
        event = {"type": "app_home_opened", "user": self.user, "channel": self.dm, "tab": "home"}
        body = slack_standin.event_body(event, team=self.team)
        assert self.slack.post(body, content_type="application/json").status_code == 200

        def drawn(call: slack_standin.Call) -> bool:
            return call.params.get("user_id") == self.user and expect in json.dumps(
                _view(call.params["view"]), ensure_ascii=False
            )

        return _view(self.slack.standin.wait_for("views.publish", since=since, where=drawn)[0].params["view"])

    def presses(self, value: str, expect: str) -> slack_standin.Call:
        """A button on the App Home; the answer in the private chat holding `expect`."""
        since = self.slack.standin.mark()
        payload = {
            "type": "block_actions",
            "team": {"id": self.team},
            "user": {"id": self.user},
            "api_app_id": "A0APP",
            "container": {"type": "view", "view_id": "V1"},
            "response_url": self.slack.standin.response_url(),
            "actions": [{"type": "button", "action_id": "press:0", "block_id": "b", "value": value}],
        }
        assert self.slack.interact(payload).status_code == 200
        return self.in_dm(expect, since=since)

    def received(self, expect: str) -> list[slack_standin.Call]:
        """Every message to this person, in their private chat, holding `expect`."""
        return [
            call
            for call in self.slack.standin.calls_to("chat.postMessage")
            if call.params.get("channel") in {self.dm, self.user} and expect in str(call.params.get("text", ""))
        ]


def home_buttons(view: dict[str, Any]) -> list[str]:
    return [
        element["value"]
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if "value" in element
    ]


# --- Telegram ---------------------------------------------------------------------------------------


@dataclass
class TelegramPerson:
    standin: StandIn
    user: int
    name: str
    username: str | None = None
    language: str | None = None  # what their Telegram app says (None: nothing)

    def _said(self, expect: telegram_standin.Expect) -> Callable[[telegram_standin.Call], bool]:
        def meant(call: telegram_standin.Call) -> bool:
            return (
                call.method in {"sendMessage", "editMessageText"}
                and bool(call.params.get("_ok"))
                and str(call.params.get("chat_id")) == str(self.user)
                and telegram_standin._matches(call, expect)
            )

        return meant

    async def says(
        self, text: str, expect: telegram_standin.Expect, *, reply_to: int | None = None
    ) -> telegram_standin.Call:
        """Writes `text` (as a reply to the bot's message `reply_to`); the answer meant (HTML, as sent)."""
        since = self.standin.mark()
        self.standin.message(
            text, user=self.user, name=self.name, language=self.language, username=self.username, reply_to=reply_to
        )
        return await self.standin.wait_for(self._said(expect), since=since, what=f"{expect!r} to {self.user}")

    async def presses(self, data: str, message_id: int, expect: telegram_standin.Expect) -> telegram_standin.Call:
        since = self.standin.mark()
        self.standin.press(
            data, message_id=message_id, user=self.user, language=self.language, name=self.name, username=self.username
        )
        return await self.standin.wait_for(self._said(expect), since=since, what=f"{expect!r} to {self.user}")

    async def posts(
        self, tr: Translator, command: str, organisation: str, title: str, description: str
    ) -> telegram_standin.Call:
        """The post conversation, step by step, in the language of `tr`; returns the message with the
        instant suggestions, once the contact question after it came."""
        kind = "need" if command == "/need" else "offer"
        await self.says(command, html.escape(tr.t("core.ask_organisation")))
        await self.says(organisation, html.escape(tr.t(f"core.ask_title_{kind}")))
        await self.says(title, html.escape(tr.t(f"core.ask_description_{kind}")))
        topics = await self.says(description, lambda call: "done" in [value for _, value in buttons(call.params)])
        topic_id = int(topics.params["_message_id"])
        await self.presses("done", topic_id, lambda call: "save" in [value for _, value in buttons(call.params)])
        since = self.standin.mark()
        await self.presses("save", topic_id, lambda call: "/contact" in str(call.params.get("text", "")))
        suggested = (html.escape(tr.t("core.suggestions_header")), html.escape(tr.t("core.suggestions_none")))
        return await self.standin.wait_for(
            self._said(lambda call: str(call.params.get("text", "")).startswith(suggested)), since=since
        )


def intro_of(standin: StandIn, user: int, expect: str) -> telegram_standin.Call:
    [found] = [call for call in standin.sent(user) if expect in str(call.params["text"])]
    return found
