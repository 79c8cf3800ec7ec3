"""Roles: bootstrapping a facilitator from the command line before they ever wrote."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.deps import Deps
from bot.ports import Address, Incoming, Sender
from bot.roles import parse_identity
from bot.runtime.cli import cli
from handlers.application.conversation import Conversations


def test_parse_identity() -> None:
    assert parse_identity("slack:U0123ABC") == ("slack", "U0123ABC")
    assert parse_identity("telegram:42") == ("telegram", "42")
    for bad in ("U0123", "skype:1", "slack:", "slack:T1:U1"):
        with pytest.raises(ValueError, match="platform:user-id"):
            parse_identity(bad)


def test_granted_role_is_claimed_by_the_first_message(deps: Deps, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", deps.settings.database_url)
    result = CliRunner().invoke(cli, ["role", "grant", "slack:U0FACIL", "facilitator"], obj={})
    assert result.exit_code == 0, result.output
    assert "slack:U0FACIL now has the role facilitator" in result.output

    sender = Sender(platform="slack", workspace="T0PARTNER", user_id="U0FACIL", display_name="Dana")
    channel = Address(platform="slack", workspace="T0PARTNER", chat="C0GENERAL")
    replies = Conversations(deps).handle(
        Incoming(sender=sender, chat=channel, text="/peer channel here", is_private=False)
    )
    assert "this channel now receives" in replies[0].text

    stranger = Sender(platform="slack", workspace="T0PARTNER", user_id="U0OTHER")
    replies = Conversations(deps).handle(
        Incoming(sender=stranger, chat=channel, text="/peer channel here", is_private=False)
    )
    assert "for facilitators" in replies[0].text


def test_bad_identity_is_refused(deps: Deps, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", deps.settings.database_url)
    result = CliRunner().invoke(cli, ["role", "grant", "U0FACIL", "facilitator"], obj={})
    assert result.exit_code != 0
    assert "platform:user-id" in result.output


def test_a_facilitator_exports_all_posts_as_csv(deps: Deps) -> None:
    import csv
    import io

    from sqlmodel import select

    from storage.models import Member, Post, PostKind, Role

    sender = Sender(platform="slack", workspace="T1", user_id="UFAC", display_name="Fay", organisation="Rotterdam")
    chat = Address(platform="slack", workspace="T1", chat="UFAC")
    conversations = Conversations(deps)
    conversations.handle(Incoming(sender=sender, chat=chat, text="/help"))
    with deps.sessions() as session:
        member = session.exec(select(Member)).one()
        member.role = Role.facilitator
        assert member.organisation_id is not None
        session.add(member)
        session.add(
            Post(
                community_id=member.community_id,
                organisation_id=member.organisation_id,
                ref="r1",
                kind=PostKind.offer,
                title='Impact, "tradable"',
                description="Zeile 1\nZeile 2 ✓",
            )
        )
        session.commit()
    [reply] = conversations.handle(Incoming(sender=sender, chat=chat, text="/peer export"))
    assert reply.attachment is not None
    assert reply.attachment.mime_type == "text/csv"
    [row] = list(csv.DictReader(io.StringIO(reply.attachment.content.decode("utf-8-sig"))))
    assert (row["ref"], row["title"], row["description"]) == (
        "r1",
        'Impact, "tradable"',
        "Zeile 1\nZeile 2 ✓",
    )
    assert "Here is 1 post (offer or need)" in reply.text


def test_a_slack_facilitator_grants_the_role_by_mention(deps: Deps) -> None:
    admin = Sender(platform="slack", workspace="T1", user_id="UADMIN", is_platform_admin=True)
    channel = Address(platform="slack", workspace="T1", chat="C1")
    conversations = Conversations(deps)
    text = "/peer role <@U0BOB|bob> facilitator"
    [reply] = conversations.handle(Incoming(sender=admin, chat=channel, text=text, is_private=False))
    assert "is now a facilitator" in reply.text
    bob = Sender(platform="slack", workspace="T1", user_id="U0BOB")
    [reply] = conversations.handle(Incoming(sender=bob, chat=channel, text="/peer channel here", is_private=False))
    assert "this channel now receives" in reply.text
