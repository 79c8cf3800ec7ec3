"""Where things go on the synergy map, before anything is drawn.

Offers on the left, needs on the right, each side cut into bands (a city, or a working group) in
the same order, so a city sits at about the same height on both sides. A small community shows one
row per organisation; a large one (more than `DETAILED_ROWS` rows on a side) one row per band, and
its links are summed between bands: a thousand organisations give a few dozen readable lines, not a
hairball.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from bot.i18n import N_, Translator
from bot.picture.data import STAGES, Actor, Stage, Synergies
from bot.text import shorten
from bot.topics import label
from storage.models import OrganisationKind

GroupBy = Literal["city", "group"]
Side = Literal["offer", "need"]

DETAILED_ROWS = 32  # more organisations than this on a side: one row per city or group
MAX_BANDS = 14  # bands shown when aggregated; the rest become "other cities"
MAX_LINKS = 40  # links drawn, strongest first
TOPICS_PER_ROW = 2
TOPIC_CHARS = 30
# A long topic label is cut before its first "and": "Capacity building and training" -> "Capacity building".
MIN_HEAD = 9  # "Spaces" alone says too little: then the label is shortened instead
CONJUNCTIONS = (" and ", " y ", " e ", " et ", " ed ", " en ", " i ")
NAME_CHARS = 60  # longer names are drawn smaller (synergy_map.name_size), then cut


@dataclass(frozen=True, slots=True)
class BandWords:
    """The catalog keys that change with what a band is: a city or a working group."""

    summary: str
    missing: str  # the band of organisations without one
    other: str  # the band of the small ones, when aggregated
    note: str


BAND_WORDS: dict[GroupBy, BandWords] = {
    "city": BandWords(
        N_("picture.map_summary"), N_("picture.unknown_city"), N_("picture.other_cities"), N_("picture.aggregate_note")
    ),
    "group": BandWords(
        N_("picture.map_summary_groups"),
        N_("picture.no_group"),
        N_("picture.other_groups"),
        N_("picture.aggregate_note_groups"),
    ),
}


@dataclass(frozen=True, slots=True)
class Row:
    key: int | str  # an organisation id, or the band's label when aggregated
    title: str
    topics: str  # what the row offers (left) or needs (right), by topic
    kind: OrganisationKind | None  # marker shape; None for a whole band
    weight: int  # posts on this side: the marker's size


@dataclass
class Band:
    label: str
    rows: list[Row] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Edge:
    """A line to draw: from a row on the left to a row on the right."""

    offer_row: int | str
    need_row: int | str
    stage: Stage
    strength: float  # in [0, 1]: the score, or the share of the busiest band pair
    count: int  # links summed into this line (1 for an organisation pair)


@dataclass
class Layout:
    offers: list[Band]
    needs: list[Band]
    edges: list[Edge]  # weakest first: the strongest are drawn last, on top
    aggregated: bool
    by: GroupBy
    total_links: int
    linked: dict[Side, set[int | str]]  # rows with at least one link, drawn or not

    @property
    def shown_links(self) -> int:
        return sum(edge.count for edge in self.edges)


def plan(synergies: Synergies, tr: Translator, *, by: GroupBy = "city") -> Layout:
    band_of = _band_function(synergies, tr, by)
    offering = {link.offer_organisation for link in synergies.links}
    needing = {link.need_organisation for link in synergies.links}
    offers = [a for a in synergies.actors.values() if a.offer_count or a.id in offering]
    needs = [a for a in synergies.actors.values() if a.need_count or a.id in needing]
    if max(len(offers), len(needs)) <= DETAILED_ROWS:
        return _detailed(synergies, tr, by, band_of, offers, needs)
    return _aggregated(synergies, tr, by, band_of, offers, needs)


def _band_function(synergies: Synergies, tr: Translator, by: GroupBy) -> Callable[[Actor], str]:
    missing = tr.t(BAND_WORDS[by].missing)
    if by == "group":
        return lambda actor: synergies.groups.get(actor.id) or missing
    return lambda actor: actor.city or missing


def _band_order(labels: Iterable[str], last: set[str]) -> list[str]:
    """Alphabetical, accents and case aside; "city not given" and "other cities" at the end."""
    return sorted(set(labels), key=lambda text: (text in last, text.casefold()))


def _topics(counts: Counter[str], tr: Translator, *, with_counts: bool = False) -> str:
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOPICS_PER_ROW]
    names = [short_topic(slug, tr.language) + (f" {n}" if with_counts else "") for slug, n in top]
    return " · ".join(names)


def short_topic(slug: str, language: str, limit: int = TOPIC_CHARS) -> str:
    text = label(slug, language)
    if len(text) <= limit:
        return text
    cuts = [text.find(word) for word in CONJUNCTIONS if text.find(word) >= MIN_HEAD]
    return text[: min(cuts)] if cuts and min(cuts) <= limit else shorten(text, limit)


def _detailed(
    synergies: Synergies,
    tr: Translator,
    by: GroupBy,
    band_of: Callable[[Actor], str],
    offers: list[Actor],
    needs: list[Actor],
) -> Layout:
    order = _band_order((band_of(a) for a in (*offers, *needs)), {tr.t(BAND_WORDS[by].missing)})

    def bands(actors: list[Actor], side: Side) -> list[Band]:
        found = {name: Band(name) for name in order}
        for actor in sorted(actors, key=lambda a: a.name.casefold()):
            topics, count = (actor.offers, actor.offer_count) if side == "offer" else (actor.needs, actor.need_count)
            row = Row(actor.id, shorten(actor.name, NAME_CHARS), _topics(topics, tr), actor.kind, count)
            found[band_of(actor)].rows.append(row)
        return [band for band in found.values() if band.rows]

    shown = synergies.links[:MAX_LINKS]
    edges = [
        Edge(link.offer_organisation, link.need_organisation, link.stage, min(1.0, link.score), 1)
        for link in reversed(shown)
    ]
    linked: dict[Side, set[int | str]] = {
        "offer": {link.offer_organisation for link in synergies.links},
        "need": {link.need_organisation for link in synergies.links},
    }
    return Layout(bands(offers, "offer"), bands(needs, "need"), edges, False, by, len(synergies.links), linked)


def _aggregated(
    synergies: Synergies,
    tr: Translator,
    by: GroupBy,
    band_of: Callable[[Actor], str],
    offers: list[Actor],
    needs: list[Actor],
) -> Layout:
    sizes = Counter(band_of(actor) for actor in synergies.actors.values())
    kept = {name for name, _ in sorted(sizes.items(), key=lambda item: (-item[1], item[0]))[:MAX_BANDS]}
    rest = len(sizes) - len(kept)
    other = tr.t(BAND_WORDS[by].other, count=rest)

    def place(actor: Actor) -> str:
        name = band_of(actor)
        return name if name in kept else other

    order = _band_order((place(a) for a in synergies.actors.values()), {other, tr.t(BAND_WORDS[by].missing)})

    def bands(actors: list[Actor], side: Side) -> list[Band]:
        topics: dict[str, Counter[str]] = defaultdict(Counter)
        members: Counter[str] = Counter()
        posts: Counter[str] = Counter()
        for actor in actors:
            topics[place(actor)].update(actor.offers if side == "offer" else actor.needs)
            members[place(actor)] += 1
            posts[place(actor)] += actor.offer_count if side == "offer" else actor.need_count
        return [
            Band(
                name,
                [
                    Row(
                        name,
                        f"{shorten(name, NAME_CHARS)} ({members[name]})",
                        _topics(topics[name], tr, with_counts=True),
                        None,
                        posts[name],
                    )
                ],
            )
            for name in order
            if members[name]
        ]

    actors = synergies.actors
    linked: dict[Side, set[int | str]] = {
        "offer": {place(actors[link.offer_organisation]) for link in synergies.links},
        "need": {place(actors[link.need_organisation]) for link in synergies.links},
    }
    edges = _summed(synergies, place, other)
    return Layout(bands(offers, "offer"), bands(needs, "need"), edges, True, by, len(synergies.links), linked)


def _summed(synergies: Synergies, place: Callable[[Actor], str], other: str) -> list[Edge]:
    """One line per (offering band, needing band, stage), its width the number of links: the
    biggest flows of each stage, so progress shows even where most links are only suggested.
    The "other cities" band sums many small ones; its flows would outweigh every city's, so it
    gets none (its row still counts its organisations and topics)."""
    counts: Counter[tuple[str, str, Stage]] = Counter()
    for link in synergies.links:
        offer = place(synergies.actors[link.offer_organisation])
        need = place(synergies.actors[link.need_organisation])
        if other not in (offer, need):
            counts[(offer, need, link.stage)] += 1
    busiest = max(counts.values(), default=1)
    per_stage = MAX_LINKS // len(STAGES)
    kept = [
        key
        for stage in STAGES
        for key in sorted((k for k in counts if k[2] == stage), key=lambda k: (-counts[k], k))[:per_stage]
    ]
    return [
        Edge(offer, need, stage, counts[(offer, need, stage)] / busiest, counts[(offer, need, stage)])
        for offer, need, stage in kept
    ]
