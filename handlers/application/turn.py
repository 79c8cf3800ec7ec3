"""One turn of a conversation: who is speaking, in which language, with what at hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from bot.deps import Deps
from bot.i18n import Translator
from bot.members import Who
from bot.ports import Incoming, Reply
from bot.roles import is_facilitator


@dataclass
class Turn:
    deps: Deps
    session: Session
    incoming: Incoming
    who: Who
    tr: Translator

    @property
    def is_facilitator(self) -> bool:
        return is_facilitator(self.session, self.who, self.incoming.sender, self.incoming.chat)

    def say(self, key: str, /, **values: object) -> Reply:
        return Reply(text=self.tr.t(key, **values))


# A command gets the turn and the text after its name ("/withdraw 12" -> "12").
CommandHandler = Callable[[Turn, str], list[Reply]]
