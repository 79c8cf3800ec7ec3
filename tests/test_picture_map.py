"""The synergy map: real PNGs of sensible size from the demo community and a generated large one;
links at their furthest stage, drawn in the stage's own colour; labels in the reader's language;
a thousand organisations aggregated by city instead of a hairball."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlmodel import select

from bot.config import Settings
from bot.demo import load_demo
from bot.deps import Deps
from bot.groups import propose_groups, save_groups
from bot.i18n import translator
from bot.picture import style
from bot.picture.data import Stage, gather
from bot.picture.layout import DETAILED_ROWS, MAX_BANDS, MAX_LINKS, plan
from bot.picture.png import png_size
from bot.picture.synergy_map import draw_map, render
from bot.runtime.compose import build_deps
from storage.db import transaction
from storage.models import Match, MatchStatus
from tests.conftest import FakeClock
from tests.picture_support import large_community

COMMUNITY = "RRR"


def _demo(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        load_demo(session, deps.encoder)


def _record_round(deps: Deps, statuses: list[MatchStatus]) -> list[Match]:
    """Store the next round and move its strongest matches to `statuses`, in order."""
    with transaction(deps.sessions) as session:
        deps.matcher.record_round(session, deps.matcher.run_round(session, 1))
        matches = list(session.exec(select(Match).order_by(Match.score.desc())).all())  # type: ignore[attr-defined]
        for match, status in zip(matches, statuses, strict=False):
            match.status = status
            match.introduced_at = datetime(2026, 3, 1, tzinfo=UTC) if status != MatchStatus.accepted else None
            session.add(match)
        return matches


def _pixels(png: bytes) -> dict[str, int]:
    """How many pixels of each colour: a stage's lines add thousands to its legend's few hundred."""
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16) or []
    return {"#{:02X}{:02X}{:02X}".format(*rgb): count for count, rgb in colours}


def _map(deps: Deps, language: str = "en") -> bytes:
    with deps.sessions() as session:
        png = draw_map(session, deps.matcher, 1, community=COMMUNITY, tr=translator(language))
    assert png is not None
    return png


def test_the_demo_map_is_a_real_png_of_sensible_size(deps: Deps) -> None:
    _demo(deps)
    png = _map(deps)
    width, height = png_size(png)
    with Image.open(io.BytesIO(png)) as image:
        image.verify()  # the whole file decodes, not just its header
    assert (width, height) == (1320, height)
    assert 900 <= height <= 2400  # a chat preview shows it whole; Telegram's photo limits are far
    assert 20_000 < len(png) < 400_000
    pixels = _pixels(png)
    assert pixels[style.GREY] > 5 * pixels[style.SKY_BLUE]  # no round yet: the next round's links, dotted grey


def test_drawing_stores_nothing(deps: Deps) -> None:
    _demo(deps)
    with deps.sessions() as session:
        draw_map(session, deps.matcher, 1, community=COMMUNITY, tr=translator("en"))
    with deps.sessions() as session:
        assert session.exec(select(Match)).all() == []


def test_each_stage_is_drawn_in_its_own_colour(deps: Deps) -> None:
    _demo(deps)
    before = _pixels(_map(deps))  # the legend alone shows each colour
    _record_round(deps, [MatchStatus.met, MatchStatus.introduced, MatchStatus.accepted])
    after = _pixels(_map(deps))
    for colour in (style.VERMILLION, style.BLUE, style.ORANGE, style.SKY_BLUE):
        assert after[colour] > 3 * before[colour], colour
    assert after[style.GREY] < before[style.GREY]  # recorded: fewer links are merely possible


def test_a_link_shows_its_furthest_stage_and_declined_ones_vanish(deps: Deps) -> None:
    _demo(deps)
    matches = _record_round(deps, [MatchStatus.not_useful] + [MatchStatus.declined] * 100)
    with deps.sessions() as session:
        synergies = gather(session, deps.matcher, 1, community=COMMUNITY)
    assert len(matches) > 10
    stages = [link.stage for link in synergies.links]
    assert stages.count(Stage.met) == 1  # "not useful" still means they met
    assert set(stages) == {Stage.met, Stage.possible}  # the declined are no links
    pairs = {(link.offer_organisation, link.need_organisation) for link in synergies.links}
    assert len(pairs) == len(synergies.links)  # one link per organisation pair
    assert synergies.links == sorted(synergies.links, key=lambda link: (-link.stage.rank, -link.score))


def test_labels_are_in_the_readers_language(deps: Deps) -> None:
    _demo(deps)
    with deps.sessions() as session:
        synergies = gather(session, deps.matcher, 1, community=COMMUNITY)
    spanish = plan(synergies, translator("es"))
    polish = plan(synergies, translator("pl"))
    topics_es = " ".join(row.topics for band in spanish.needs for row in band.rows)
    topics_pl = " ".join(row.topics for band in polish.needs for row in band.rows)
    assert "Compra pública" in topics_es
    assert "Zamówienia publiczne" in topics_pl
    assert not spanish.aggregated
    assert [band.label for band in spanish.offers][:2] == ["Belo Horizonte", "Bilbao"]
    png = render(synergies, translator("pl"))
    assert png_size(png)[0] == 1320


def test_grouped_by_working_group_uses_saved_groups_or_proposes_them(deps: Deps) -> None:
    _demo(deps)
    tr = translator("en")
    with deps.sessions() as session:
        proposed = gather(session, deps.matcher, 1, community=COMMUNITY, groups_in="en")
        proposal = propose_groups(session, deps.matcher, 1)
    names = {group.name("en") for group in proposal.groups}
    assert set(proposed.groups.values()) == names
    layout = plan(proposed, tr, by="group")
    assert {band.label for band in layout.offers} <= names | {tr.t("picture.no_group")}
    with transaction(deps.sessions) as session:
        save_groups(session, proposal, language="fr")
    with deps.sessions() as session:
        saved = gather(session, deps.matcher, 1, community=COMMUNITY, groups_in="en")
        png = draw_map(session, deps.matcher, 1, community=COMMUNITY, tr=tr, by="group")
    assert set(saved.groups.values()) == {group.name("fr") for group in proposal.groups}
    assert png is not None


def test_an_empty_community_has_no_map(deps: Deps) -> None:
    with deps.sessions() as session:
        assert draw_map(session, deps.matcher, 1, community=COMMUNITY, tr=translator("en")) is None


@pytest.fixture
def large(sqlite_url: str) -> Iterator[Deps]:
    deps = build_deps(Settings(_env_file=None, database_url=sqlite_url), clock=FakeClock(), migrate=False)  # type: ignore[call-arg]
    with transaction(deps.sessions) as session:
        large_community(session, deps.matcher, deps.clock, organisations=1000)
    yield deps
    deps.engine.dispose()


def test_a_thousand_organisations_are_summed_by_city(large: Deps) -> None:
    tr = translator("en")
    with large.sessions() as session:
        synergies = gather(session, large.matcher, 1, community=COMMUNITY)
    assert len(synergies.actors) > DETAILED_ROWS * 10
    layout = plan(synergies, tr)
    assert layout.aggregated
    assert len(layout.offers) <= MAX_BANDS + 1  # the biggest cities and "other cities"
    assert all(len(band.rows) == 1 for band in (*layout.offers, *layout.needs))
    assert 0 < len(layout.edges) <= MAX_LINKS
    assert {edge.stage for edge in layout.edges} == set(Stage)  # progress shows even among many
    other = tr.t("picture.other_cities", count=len(synergies.cities()) - MAX_BANDS)
    assert layout.offers[-1].label == other
    assert all(other not in (edge.offer_row, edge.need_row) for edge in layout.edges)
    png = render(synergies, tr)
    width, height = png_size(png)
    assert width == 1320
    assert 900 <= height <= 2000
    assert 20_000 < len(png) < 400_000
