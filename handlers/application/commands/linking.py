"""`/link` (a one-time code), `/link <code>` (typed on the other platform) and `/unlink`."""

from __future__ import annotations

from bot import linking
from bot.ports import Reply
from handlers.application.turn import Turn


def link_command(turn: Turn, args: str) -> list[Reply]:
    now = turn.deps.clock.now()
    if args.strip():
        linking.redeem(turn.session, turn.who, args, now=now)  # or UserError, answered by the dispatcher
        return [turn.say("people.linked")]
    if not turn.incoming.is_private:
        return [Reply(text=turn.tr.t("people.link_in_private"), private_link=True)]
    code = linking.new_code(turn.session, turn.who, now=now)
    minutes = int(linking.CODE_VALIDITY.total_seconds() // 60)
    return [Reply(text=turn.tr.n("people.link_code", minutes, code=code.code))]


def unlink_command(turn: Turn, _args: str) -> list[Reply]:
    linking.unlink(turn.session, turn.who, now=turn.deps.clock.now())
    return [turn.say("people.unlinked")]
