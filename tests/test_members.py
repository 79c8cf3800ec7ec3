"""First contact: a platform identity becomes a member, once, even when two requests race."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlmodel import func, select

from bot.deps import Deps
from bot.ports import Address, Incoming, Sender
from handlers.application.conversation import Conversations
from storage.models import Identity, Member, Organisation, Workspace


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
