"""First contact: a platform identity becomes a member, once, even when two requests race; and the
one rule for the language and timezone a member is written to in."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlmodel import func, select

from bot.deps import Deps
from bot.members import member_language, member_zone, resolve
from bot.ports import Address, Incoming, Sender
from handlers.application.conversation import Conversations
from storage.db import transaction
from storage.models import Identity, Member, Organisation, Workspace
from storage.queries import default_community


def test_simultaneous_first_messages_create_one_member(deps: Deps) -> None:
    conversations = Conversations(deps)

    def first_contact(number: int) -> str:
        sender = Sender(
            platform="slack", workspace="TNEW", user_id="UNEW", display_name="Nia", organisation="Rotterdam"
        )
        chat = Address(platform="slack", workspace="TNEW", chat=f"D{number}")
        return conversations.handle(Incoming(sender=sender, chat=chat, text="/help"))[0].text

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(first_contact, range(12)))
    assert all(answer.startswith("What I can do") for answer in answers)
    with deps.sessions() as session:
        for table in (Member, Identity, Workspace, Organisation):
            assert session.exec(select(func.count()).select_from(table)).one() == 1, table.__name__


def test_one_rule_decides_a_members_language_and_zone(deps: Deps) -> None:
    """Own choice, else the platform's word, else the community's (the settings' for the default one)."""
    with transaction(deps.sessions) as session:
        who = resolve(session, Sender(platform="slack", workspace="T1", user_id="U1"))
        community = default_community(session=session)
        community.language, community.timezone = "nl", "Europe/Amsterdam"
        assert (who.language, who.timezone.key, who.own_language) == ("nl", "Europe/Amsterdam", None)
        who = resolve(
            session,
            Sender(platform="slack", workspace="T1", user_id="U1", locale="pt-BR", timezone="America/Sao_Paulo"),
        )
        assert (who.language, who.timezone.key, who.own_language) == ("pt", "America/Sao_Paulo", "pt")
        who.member.language, who.member.timezone = "pl", "Europe/Warsaw"
        assert (who.language, who.timezone.key) == ("pl", "Europe/Warsaw")
        assert member_language(who.member, None, community) == "pl"
        who.member.language, who.member.timezone = None, None
        assert (member_language(who.member, None, community), member_zone(who.member, None, community).key) == (
            "nl",
            "Europe/Amsterdam",
        )
        who.member.timezone = "Not/A_Zone"  # a zone that no longer exists never breaks a reply
        assert member_zone(who.member, None, community).key == "UTC"
