"""Roles: bootstrapping a facilitator from the command line before they ever wrote."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlmodel import select

from bot.deliveries import enqueue
from bot.deps import Deps
from bot.i18n import translator
from bot.ports import Address, Incoming, Reply, Sender
from bot.roles import parse_identity
from bot.runtime.cli import cli
from handlers.application.conversation import Conversations
from schedules.outbox import tell_facilitators
from storage.db import transaction
from storage.models import Delivery, Member, Role
from storage.queries import default_community
from tests.membership_support import open_group


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
    assert reply.text == translator("en").t("membership.role_not_here", user="<@U0BOB|bob>")
    bob = Sender(platform="slack", workspace="T1", user_id="U0BOB")
    conversations.handle(Incoming(sender=bob, chat=channel, text="/help", is_private=False))  # now one of us
    [reply] = conversations.handle(Incoming(sender=admin, chat=channel, text=text, is_private=False))
    assert "is now a facilitator" in reply.text
    [reply] = conversations.handle(Incoming(sender=bob, chat=channel, text="/peer channel here", is_private=False))
    assert "this channel now receives" in reply.text


def test_the_peer_check_and_the_notices_agree_on_who_facilitates(deps: Deps) -> None:
    """The dispatcher's role check and the recipients of "could not deliver" notices are the same
    people: a granted facilitator, a Slack workspace admin and a Telegram group admin, and no one else."""
    people = {
        "Fay": Sender(platform="slack", workspace="T1", user_id="UFAY", display_name="Fay"),
        "Pat": Sender(platform="slack", workspace="T1", user_id="UPAT", display_name="Pat", is_platform_admin=True),
        "Tom": Sender(platform="telegram", workspace="777", user_id="42", display_name="Tom", is_platform_admin=True),
        "Mo": Sender(platform="slack", workspace="T1", user_id="UMO", display_name="Mo"),
        "Ex": Sender(platform="slack", workspace="T1", user_id="UEX", display_name="Ex", is_platform_admin=True),
        # a member (through the registered group) who owns a group of her own that nobody registered
        "Eve": Sender(
            platform="telegram",
            workspace="777",
            user_id="43",
            display_name="Eve",
            is_platform_admin=True,
            member_of=("-100",),
        ),
    }
    chats = {"slack": Address(platform="slack", workspace="T1", chat="C1")}
    chats["telegram"] = open_group(deps, workspace="777", chat="-100")  # a registered group's admin
    chats["43"] = Address(platform="telegram", workspace="777", chat="-200")  # Eve's own group
    conversations = Conversations(deps)

    def peer(sender: Sender) -> bool:
        chat = chats.get(sender.user_id) or chats[sender.platform]
        incoming = Incoming(sender=sender, chat=chat, text="/peer help", is_private=False)
        return conversations.handle(incoming)[0].text.startswith("For facilitators:")

    for sender in people.values():
        peer(sender)
    with transaction(deps.sessions) as session:
        fay = session.exec(select(Member).where(Member.display_name == "Fay")).one()
        fay.role = Role.facilitator
        session.add(fay)
    people["Ex"] = Sender(platform="slack", workspace="T1", user_id="UEX", display_name="Ex")  # no longer admin
    allowed = {name for name, sender in people.items() if peer(sender)}

    with transaction(deps.sessions) as session:
        community = default_community(session=session)
        row = enqueue(
            session,
            dedupe_key="digest:test",
            to=chats["slack"],
            reply=Reply(text="hello"),
            kind="digest",
            due_at=deps.clock.now() - timedelta(hours=1),
            community_id=community.id,
        )
        assert row is not None
        assert tell_facilitators(session, row, now=deps.clock.now()) == 3
        told = session.exec(select(Member.display_name).join(Delivery, Delivery.member_id == Member.id)).all()
    assert allowed == {"Fay", "Pat", "Tom"}
    assert set(told) == allowed
