"""The hook that notes stale App Homes is installed by the composition root, on its own session
factory: building the Slack app or notifier adds nothing, and sessions of other factories are left alone."""

from __future__ import annotations

from sqlalchemy import event
from sqlmodel import Session, select

from bot.config import Settings
from bot.home import _after_flush
from bot.ports import Address, Incoming, Sender
from bot.runtime.compose import build_deps
from handlers.application.conversation import Conversations
from handlers.slack.app import build_app
from handlers.slack.notifier import SlackNotifier
from storage.db import transaction
from storage.models import StaleHome
from tests import slack_standin
from tests.conftest import FakeClock
from tests.slack_standin import SlackStandIn, slack_settings

standin = slack_standin.standin  # fixture


def _say(conversations: Conversations, user: str, text: str) -> None:
    sender = Sender(platform="slack", workspace="T1", user_id=user)
    conversations.handle(Incoming(sender=sender, chat=Address("slack", "T1", f"D{user}"), text=text))


def test_only_the_composition_root_installs_the_hook(sqlite_url: str, standin: SlackStandIn) -> None:
    slack = build_deps(slack_settings(sqlite_url, standin), clock=FakeClock(), migrate=False)
    plain = build_deps(Settings(_env_file=None, database_url=sqlite_url), clock=FakeClock(), migrate=False)  # type: ignore[call-arg]
    try:
        build_app(slack)
        SlackNotifier(slack)
        assert not event.contains(Session, "after_flush", _after_flush)  # nothing global
        assert event.contains(slack.sessions, "after_flush", _after_flush)
        assert not event.contains(plain.sessions, "after_flush", _after_flush)
        _say(Conversations(plain), "U7", "/help")  # U7 joins
        _say(Conversations(plain), "U7", "/language es")  # U7 changes, written without the hook
        with transaction(plain.sessions) as session:
            assert session.exec(select(StaleHome)).all() == []
        _say(Conversations(slack), "U7", "/language fr")  # the same kind of change with it: noted
        with transaction(slack.sessions) as session:
            assert len(session.exec(select(StaleHome)).all()) == 1
    finally:
        slack.engine.dispose()
        plain.engine.dispose()
