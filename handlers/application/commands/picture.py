"""Facilitators' pictures of the partnership: `/peer map [groups]`, the synergy map as an image, and
`/peer report`, the whole picture as one HTML page. (The dispatcher has already checked the role.)"""

from __future__ import annotations

from bot.i18n import N_, translator
from bot.picture.layout import GroupBy
from bot.picture.report import build_report
from bot.picture.synergy_map import draw_map
from bot.ports import Attachment, Reply
from handlers.application.turn import Turn

PNG = "image/png"
HTML = "text/html"
_READY = {"city": N_("picture.map_ready"), "group": N_("picture.map_ready_groups")}


def peer_map(turn: Turn, args: str) -> list[Reply]:
    word = args.strip().lower()
    if word and word not in turn.tr.words("picture.word_groups"):
        return [turn.say("picture.map_usage")]
    by: GroupBy = "group" if word else "city"
    community = turn.who.community
    png = draw_map(turn.session, turn.deps.matcher, turn.who.community_id, community=community.name, tr=turn.tr, by=by)
    if png is None:
        return [turn.say("picture.map_empty")]
    attachment = Attachment(filename=f"peerlink-map-{_stamp(turn)}.png", content=png, mime_type=PNG)
    return [Reply(text=turn.tr.t(_READY[by], community=community.name), attachment=attachment)]


def peer_report(turn: Turn, _args: str) -> list[Reply]:
    """In the community's language (it is the partnership's document), times in the reader's zone."""
    community = turn.who.community
    tr = translator(community.language)
    page = build_report(
        turn.session,
        turn.deps.matcher,
        turn.who.community_id,
        community=community.name,
        tr=tr,
        zone=turn.who.timezone,
        now=turn.deps.clock.now(),
    )
    attachment = Attachment(filename=f"peerlink-report-{_stamp(turn)}.html", content=page.encode(), mime_type=HTML)
    return [Reply(text=turn.tr.t("picture.report_ready", community=community.name), attachment=attachment)]


def _stamp(turn: Turn) -> str:
    return turn.deps.clock.now().strftime("%Y%m%d-%H%M")
