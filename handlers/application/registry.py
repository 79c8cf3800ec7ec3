"""Which command runs which handler. `/peer` sub-commands are for facilitators only: the dispatcher
checks the role once, before any of them runs. Conversations (`/offer`, `/need`) are flows, not here."""

from __future__ import annotations

from functools import partial

from handlers.application.commands import (
    contacts,
    general,
    invites,
    linking,
    matches,
    partnerships,
    peer,
    peer_matching,
    picture,
    privacy,
    relay,
)
from handlers.application.commands import organisations as orgs
from handlers.application.commands import schedule as sched
from handlers.application.commands import schedule_peer as sched_peer
from handlers.application.turn import CommandHandler

# "/name args" -> handler(turn, "args")
COMMANDS: dict[str, CommandHandler] = {
    "help": general.help_command,
    "mine": general.mine_command,
    "withdraw": general.withdraw_command,
    "edit": general.edit_command,
    "language": general.language_command,
    "matches": matches.matches_command,
    "accept": matches.accept_command,
    "decline": matches.decline_command,
    "reply": relay.reply_command,
    "close": relay.close_command,
    "rsvp": sched.rsvp_command,
    "ics": sched.ics_command,
    "pause": sched.pause_command,
    "resume": sched.resume_command,
    "met": sched.met_command,
    "renew": sched.renew_command,
    "block": sched.block_command,
    "mydata": privacy.mydata_command,
    "forgetme": privacy.forgetme_command,
    "contact": contacts.contact_command,
    "link": linking.link_command,
    "unlink": linking.unlink_command,
    "approve": orgs.approve_command,
}

# "/peer sub args" -> handler(turn, "args")
PEER_COMMANDS: dict[str, CommandHandler] = {
    "help": peer.peer_help,
    "channel": peer.peer_channel,
    "role": peer.peer_role,
    "introduce": matches.peer_introduce,
    "export": peer.peer_export,
    "invite": invites.peer_invite,
    "meeting": sched_peer.peer_meeting,
    "stats": sched_peer.peer_stats,
    "digest": sched_peer.peer_digest,
    "match": peer_matching.peer_match,
    "groups": peer_matching.peer_groups,
    "link": partnerships.peer_link,
    "map": picture.peer_map,
    "report": picture.peer_report,
    "audit": privacy.peer_audit,
    "org": orgs.peer_org,
}

# Invite links land on /start, which also re-queues waiting messages; "continue in private" links
# carry a command name, checked against this registry (a live view, so it sees every entry).
COMMANDS["start"] = partial(invites.start, commands=COMMANDS.keys())
