"""Which command runs which handler. `/peer` sub-commands are for facilitators only: the dispatcher
checks the role once, before any of them runs. Conversations (`/offer`, `/need`) are flows, not here."""

from __future__ import annotations

from handlers import commands, invite_command, match_commands, peer_commands, peer_matching
from handlers import partnership_commands as partnership
from handlers import schedule_commands as sched
from handlers import schedule_peer_commands as sched_peer
from handlers.turn import CommandHandler

# "/name args" -> handler(turn, "args")
COMMANDS: dict[str, CommandHandler] = {
    "help": commands.help_command,
    "start": invite_command.start,  # invite links land here, and it re-queues waiting messages
    "mine": commands.mine_command,
    "withdraw": commands.withdraw_command,
    "edit": commands.edit_command,
    "language": commands.language_command,
    "matches": match_commands.matches_command,
    "accept": match_commands.accept_command,
    "decline": match_commands.decline_command,
    "rsvp": sched.rsvp_command,
    "ics": sched.ics_command,
    "pause": sched.pause_command,
    "resume": sched.resume_command,
    "met": sched.met_command,
    "renew": sched.renew_command,
    "block": sched.block_command,
}

# "/peer sub args" -> handler(turn, "args")
PEER_COMMANDS: dict[str, CommandHandler] = {
    "help": peer_commands.peer_help,
    "channel": peer_commands.peer_channel,
    "role": peer_commands.peer_role,
    "introduce": match_commands.peer_introduce,
    "export": peer_commands.peer_export,
    "invite": invite_command.peer_invite,
    "meeting": sched_peer.peer_meeting,
    "stats": sched_peer.peer_stats,
    "digest": sched_peer.peer_digest,
    "match": peer_matching.peer_match,
    "groups": peer_matching.peer_groups,
    "link": partnership.peer_link,
}
