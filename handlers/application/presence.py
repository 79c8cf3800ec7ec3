"""What an adapter needs outside a conversation turn (e.g. when a terminal closes): the person's
language, and whether a conversation of theirs is in progress in a chat."""

from __future__ import annotations

from bot.deps import Deps
from bot.i18n import Translator, translator
from bot.members import resolve
from bot.ports import Address, Sender
from storage.db import transaction
from storage.queries import conversation_state


def speaker(deps: Deps, sender: Sender) -> Translator:
    """The messages in the sender's language."""
    with transaction(deps.sessions) as session:
        return translator(resolve(session, sender).language)


def in_conversation(deps: Deps, sender: Sender, chat: Address) -> bool:
    """True when an offer or need is under way there: its state waits in the database for the next turn."""
    with deps.sessions() as session:
        state = conversation_state(
            session=session, platform=chat.platform, workspace=chat.workspace, chat=chat.chat, user_id=sender.user_id
        )
    return state is not None
