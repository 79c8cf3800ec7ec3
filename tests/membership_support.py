"""Doors for dispatcher-level tests: a Telegram group registered with the default partnership, so a
Telegram sender who is in it (`Sender.member_of`, as the adapter fills it) belongs."""

from __future__ import annotations

from bot.deps import Deps
from bot.membership import register_group
from bot.ports import Address
from storage.db import transaction
from storage.queries import default_community


def open_group(deps: Deps, *, workspace: str, chat: str) -> Address:
    address = Address(platform="telegram", workspace=workspace, chat=chat)
    with transaction(deps.sessions) as session:
        community_id = default_community(session=session).id
        assert community_id is not None
        register_group(session, community_id=community_id, address=address)
    return address
