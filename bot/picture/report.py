"""The partnership report: one self-contained HTML page a facilitator can open, share and print.

Sections: the synergy map, a topic-by-city matrix of offers and needs, the working groups and why,
the needs without a match and why, and the funnel. Everything is inside the file — images as
`data:` URIs, styles inline, system fonts, no script — and a Content-Security-Policy forbids any
request, so it opens the same offline. Every text that people wrote (names, titles, reasons) is
escaped with `html.escape`.
"""

from __future__ import annotations

import base64
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from sqlmodel import Session, col, select

from bot.groups import propose_groups
from bot.i18n import N_, Translator
from bot.matching import Matcher
from bot.outcomes import Funnel, funnel, recent_rounds
from bot.picture.data import Synergies, gather
from bot.picture.funnel_chart import STAGE_KEYS, draw_funnel
from bot.picture.synergy_map import render
from bot.topics import label
from storage.models import Organisation, WorkingGroup, WorkingGroupMember

MATRIX_CITIES = 10  # columns; the rest are summed in "other cities" (the table then fits an A4 page)
REPORT_ROUNDS = 12
SECTIONS = (
    ("map", N_("picture.section_map")),
    ("matrix", N_("picture.section_matrix")),
    ("groups", N_("picture.section_groups")),
    ("unmatched", N_("picture.section_unmatched")),
    ("funnel", N_("picture.section_funnel")),
)
GROUPS_NOTE = {True: N_("picture.groups_saved"), False: N_("picture.groups_proposed")}
UNMATCHED_COLUMNS = (N_("picture.unmatched_need"), N_("picture.unmatched_organisation"), N_("picture.unmatched_why"))

STYLE = """
:root { --ink: #1a1a1a; --muted: #5a5a5a; --line: #dddddd; --offer: #0072b2; --need: #d55e00; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
  color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px; line-height: 1.45; }
h1 { font-size: 1.7rem; margin: 0 0 4px; } h2 { font-size: 1.3rem; margin: 0 0 8px; }
.muted, figcaption, .note { color: var(--muted); }
nav ol { display: flex; flex-wrap: wrap; gap: 4px 18px; list-style: none; padding: 0; margin: 4px 0; }
section { border-top: 1px solid var(--line); padding: 18px 0; }
img { max-width: 100%; height: auto; border: 1px solid var(--line); }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
th, td { border: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.n { text-align: center; white-space: nowrap; }
.o { color: var(--offer); font-weight: 600; } .d { color: var(--need); font-weight: 600; }
.both { background: #fff6e6; }
.group { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 8px 0; break-inside: avoid; }
.group h3 { margin: 0 0 4px; font-size: 1.05rem; }
.scroll { overflow-x: auto; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav { display: none; }
  section { break-before: page; border-top: none; }
  section#map { break-before: auto; }
  .scroll { overflow: visible; }
  table { font-size: 8pt; }
  th, td { padding: 2px 3px; }
  tr, .group, figure { break-inside: avoid; }
}
"""


@dataclass(frozen=True, slots=True)
class ReportGroup:
    name: str
    members: tuple[str, ...]
    reasons: tuple[str, ...]


def build_report(
    session: Session,
    matcher: Matcher,
    community_id: int,
    *,
    community: str,
    tr: Translator,
    zone: ZoneInfo,
    now: datetime,
) -> str:
    """The whole page, in `tr`'s language; times in `zone`."""
    synergies = gather(session, matcher, community_id, community=community)
    rounds = [funnel(session, match_round) for match_round in recent_rounds(session, community_id, limit=REPORT_ROUNDS)]
    body = [
        _header(synergies, tr, zone, now),
        _map_section(synergies, tr),
        _matrix_section(synergies, tr),
        _groups_section(session, matcher, community_id, tr),
        _unmatched_section(session, matcher, community_id, tr),
        _funnel_section(rounds, tr, zone),
        f'<footer class="note">{escape(tr.t("picture.report_footer"))}</footer>',
    ]
    title = escape(tr.t("picture.report_title", community=community))
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(tr.language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'\">\n"
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{title}</title>\n'
        f"<style>{STYLE}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )


def _section(key: str, title_key: str, tr: Translator, inner: str) -> str:
    return f'<section id="{key}">\n<h2>{escape(tr.t(title_key))}</h2>\n{inner}\n</section>'


def _header(synergies: Synergies, tr: Translator, zone: ZoneInfo, now: datetime) -> str:
    when = format_datetime(now.astimezone(zone), "long", tzinfo=zone, locale=tr.language)
    figures = tr.t(
        "picture.report_figures",
        organisations=len(synergies.actors),
        cities=len(synergies.cities()),
        offers=sum(actor.offer_count for actor in synergies.actors.values()),
        needs=sum(actor.need_count for actor in synergies.actors.values()),
        links=len(synergies.links),
    )
    contents = "".join(f'<li><a href="#{key}">{escape(tr.t(title))}</a></li>' for key, title in SECTIONS)
    return (
        f"<header>\n<h1>{escape(tr.t('picture.report_title', community=synergies.community))}</h1>\n"
        f'<p class="muted">{escape(tr.t("picture.report_generated", date=when))}<br>{escape(figures)}</p>\n'
        f"<nav><strong>{escape(tr.t('picture.report_contents'))}</strong><ol>{contents}</ol></nav>\n</header>"
    )


def _image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def _map_section(synergies: Synergies, tr: Translator) -> str:
    if not synergies.actors:
        return _section("map", "picture.section_map", tr, f'<p class="note">{escape(tr.t("picture.map_empty"))}</p>')
    caption = tr.t("picture.map_ready", community=synergies.community)
    figure = f"<figure>{_image(render(synergies, tr), caption)}<figcaption>{escape(caption)}</figcaption></figure>"
    return _section("map", "picture.section_map", tr, figure)


def topic_city_counts(
    synergies: Synergies, tr: Translator, *, columns: int = MATRIX_CITIES
) -> tuple[list[str], dict[str, dict[str, tuple[int, int]]]]:
    """(cities, {topic slug: {city: (offers, needs)}}): the biggest cities, then "other cities"."""
    offers: dict[str, Counter[str]] = defaultdict(Counter)
    needs: dict[str, Counter[str]] = defaultdict(Counter)
    sizes: Counter[str] = Counter()
    for actor in synergies.actors.values():
        city = actor.city or tr.t("picture.unknown_city")
        offers[city].update(actor.offers)
        needs[city].update(actor.needs)
        sizes[city] += actor.offer_count + actor.need_count
    ranked = sorted(sizes, key=lambda city: (-sizes[city], city.casefold()))
    kept = sorted(ranked[:columns], key=str.casefold)
    cities = kept + ([tr.t("picture.other_cities", count=len(ranked) - columns)] if len(ranked) > columns else [])
    table: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for city in ranked:
        column = city if city in kept else cities[-1]
        for slug in set(offers[city]) | set(needs[city]):
            old = table[slug].get(column, (0, 0))
            table[slug][column] = (old[0] + offers[city][slug], old[1] + needs[city][slug])
    return cities, dict(table)


def _matrix_section(synergies: Synergies, tr: Translator) -> str:
    cities, table = topic_city_counts(synergies, tr)
    if not table:
        return _section(
            "matrix", "picture.section_matrix", tr, f'<p class="note">{escape(tr.t("picture.map_empty"))}</p>'
        )

    def totals(slug: str) -> tuple[int, int]:
        cells = table[slug].values()
        return sum(o for o, _ in cells), sum(n for _, n in cells)

    head = "".join(f"<th>{escape(city)}</th>" for city in cities)
    rows = []
    for slug in sorted(table, key=lambda s: (-sum(totals(s)), label(s, tr.language))):
        cells = "".join(_cell(*table[slug].get(city, (0, 0))) for city in cities)
        rows.append(f"<tr><th>{escape(label(slug, tr.language))}</th>{cells}{_cell(*totals(slug))}</tr>")
    inner = (
        f'<p class="note">{escape(tr.t("picture.matrix_help"))}</p>\n<div class="scroll"><table>\n'
        f"<thead><tr><th>{escape(tr.t('picture.matrix_topic'))}</th>{head}"
        f"<th>{escape(tr.t('picture.matrix_total'))}</th></tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody></table></div>"
    )
    return _section("matrix", "picture.section_matrix", tr, inner)


def _cell(offers: int, needs: int) -> str:
    if not offers and not needs:
        return '<td class="n"></td>'
    parts = ([f'<span class="o">{offers}▲</span>'] if offers else []) + (
        [f'<span class="d">{needs}▼</span>'] if needs else []
    )
    both = " both" if offers and needs else ""
    return f'<td class="n{both}">{" ".join(parts)}</td>'


def report_groups(
    session: Session, matcher: Matcher, community_id: int, tr: Translator
) -> tuple[bool, list[ReportGroup], list[str]]:
    """(saved?, groups, organisations left out with why): the saved groups when there are any,
    else the groups `/peer groups` proposes now."""
    saved = session.exec(
        select(WorkingGroup).where(WorkingGroup.community_id == community_id).order_by(col(WorkingGroup.id))
    ).all()
    if saved:
        return True, [_saved_group(session, group) for group in saved], []
    proposal = propose_groups(session, matcher, community_id)
    groups = [
        ReportGroup(group.name(tr.language), tuple(m.name for m in group.members), tuple(group.reasons(tr.language)))
        for group in proposal.groups
    ]
    left = [
        f"{item.member.name}: {item.explain(tr.language, min_size=proposal.min_size)}" for item in proposal.left_out
    ]
    return False, groups, left


def _saved_group(session: Session, group: WorkingGroup) -> ReportGroup:
    names = session.exec(
        select(Organisation.name)
        .join(WorkingGroupMember, col(WorkingGroupMember.organisation_id) == Organisation.id)
        .where(WorkingGroupMember.group_id == group.id)
        .order_by(col(Organisation.name))
    ).all()
    return ReportGroup(group.name, tuple(names), tuple(group.reasons))


def _groups_section(session: Session, matcher: Matcher, community_id: int, tr: Translator) -> str:
    saved, groups, left = report_groups(session, matcher, community_id, tr)
    if not groups:
        return _section(
            "groups", "picture.section_groups", tr, f'<p class="note">{escape(tr.t("picture.groups_none"))}</p>'
        )
    parts = [f'<p class="note">{escape(tr.t(GROUPS_NOTE[saved]))}</p>']
    for group in groups:
        members = escape(tr.t("picture.groups_members", members=", ".join(group.members)))
        reasons = "".join(f"<li>{escape(reason)}</li>" for reason in group.reasons)
        parts.append(f'<div class="group"><h3>{escape(group.name)}</h3><p>{members}</p><ul>{reasons}</ul></div>')
    if left:
        items = "".join(f"<li>{escape(line)}</li>" for line in left)
        parts.append(f"<h3>{escape(tr.t('picture.groups_left_out'))}</h3><ul>{items}</ul>")
    return _section("groups", "picture.section_groups", tr, "\n".join(parts))


def _unmatched_section(session: Session, matcher: Matcher, community_id: int, tr: Translator) -> str:
    result = matcher.run_round(session, community_id)
    if not result.unmatched:
        return _section(
            "unmatched",
            "picture.section_unmatched",
            tr,
            f'<p class="note">{escape(tr.t("picture.unmatched_none"))}</p>',
        )
    names = dict(
        session.exec(select(Organisation.id, Organisation.name).where(Organisation.community_id == community_id)).all()
    )
    rows = "".join(
        f"<tr><td>{escape(item.need.title)}</td><td>{escape(names.get(item.need.organisation_id, ''))}</td>"
        f"<td>{escape(result.explain(item, tr.language))}</td></tr>"
        for item in result.unmatched
    )
    head = "".join(f"<th>{escape(tr.t(key))}</th>" for key in UNMATCHED_COLUMNS)
    return _section(
        "unmatched",
        "picture.section_unmatched",
        tr,
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>",
    )


def _funnel_section(rounds: Sequence[Funnel], tr: Translator, zone: ZoneInfo) -> str:
    if not rounds:
        return _section(
            "funnel", "picture.section_funnel", tr, f'<p class="note">{escape(tr.t("picture.funnel_none"))}</p>'
        )
    chart = _image(draw_funnel(rounds, tr, zone=zone), tr.t("picture.funnel_title"))
    head = "".join(f"<th>{escape(tr.t(key))}</th>" for key in (N_("picture.funnel_table_round"), *STAGE_KEYS))
    rows = []
    for figures in sorted(rounds, key=lambda f: (f.created_at, f.round_id)):
        day = format_date(figures.created_at.astimezone(zone), "medium", locale=tr.language)
        values = (figures.suggested, figures.accepted, figures.introduced, figures.met, figures.useful)
        cells = "".join(f'<td class="n">{value}</td>' for value in values)
        rows.append(f"<tr><td>#{figures.round_id} · {escape(day)}</td>{cells}</tr>")
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return _section("funnel", "picture.section_funnel", tr, f"<figure>{chart}</figure>\n{table}")
