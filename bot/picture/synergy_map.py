"""The synergy map: one PNG a facilitator reads in ten seconds.

Offers on the left, needs on the right, grouped in bands by city (or working group) in the same
order on both sides; under each organisation the topics it offers or needs; between them the
strongest offer→need links, each stage in its own colour, dash and width (`style.py`). Labels are
in the reader's language. Large communities are drawn one band per row (`layout.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, PathPatch
from matplotlib.path import Path as CurvePath
from sqlmodel import Session

from bot.i18n import Translator
from bot.matching import Matcher
from bot.picture import style
from bot.picture.data import STAGES, Synergies, gather
from bot.picture.layout import BAND_WORDS, Band, GroupBy, Layout, Row, plan
from bot.picture.png import new_figure, one_at_a_time, png_bytes
from bot.text import shorten

WIDTH = 12.0  # inches: 1,320 px at 110 dpi, Telegram keeps it nearly whole (1,280)
ROW = 1.0  # height units of a row, a band's header and the gap between bands
HEADER = 0.8
GAP = 0.35
INCH_PER_UNIT = 0.47
TOP, BOTTOM = 1.25, 1.05  # inches for the title and the legends
BAND_CHARS = 46
FITS = 46  # characters of a name at full size (about 430 px at 11 pt)
MIN_NAME = 8.0
MAX_STRETCH = 1.5  # the shorter side spreads out this much at most, then is centred

LEFT_NODE, RIGHT_NODE = 0.36, 0.64
LEFT_TEXT, RIGHT_TEXT = 0.345, 0.655
LEFT_EDGE, RIGHT_EDGE = 0.008, 0.992
BEND = 0.11  # how far the curves leave their node horizontally before turning
STAGE_SHIFT = 0.09  # units between the lines of one band pair's stages
AGGREGATE_WIDTH = 2.4  # points, for a line of the busiest band pair: 2.4 x 2.45


@dataclass(frozen=True, slots=True)
class Placed:
    """A side's rows with their heights (in units from the top)."""

    rows: dict[int | str, float]
    bands: list[tuple[Band, float, float]]  # band, top, bottom


def draw_map(
    session: Session, matcher: Matcher, community_id: int, *, community: str, tr: Translator, by: GroupBy = "city"
) -> bytes | None:
    """The community's synergy map as PNG bytes; None when it has no offer or need to draw."""
    synergies = gather(
        session, matcher, community_id, community=community, groups_in=tr.language if by == "group" else None
    )
    if not synergies.actors:
        return None
    return render(synergies, tr, by=by)


@one_at_a_time
def render(synergies: Synergies, tr: Translator, *, by: GroupBy = "city") -> bytes:
    layout = plan(synergies, tr, by=by)
    units = max(_units(layout.offers, layout.aggregated), _units(layout.needs, layout.aggregated), 4.0)
    figure = new_figure(WIDTH, TOP + BOTTOM + units * INCH_PER_UNIT)
    height = figure.get_figheight()
    axes = figure.add_axes((0.0, BOTTOM / height, 1.0, units * INCH_PER_UNIT / height))
    axes.set_xlim(0, 1)
    axes.set_ylim(units, 0)
    axes.set_axis_off()
    left = _place(layout.offers, units, layout.aggregated)
    right = _place(layout.needs, units, layout.aggregated)
    _draw_bands(axes, left, "offer", layout.aggregated)
    _draw_bands(axes, right, "need", layout.aggregated)
    _draw_edges(axes, layout, left, right)
    _draw_rows(axes, layout, left, "offer")
    _draw_rows(axes, layout, right, "need")
    _titles(figure, axes, synergies, layout, tr)
    _legends(figure, layout, synergies, tr)
    return png_bytes(figure)


def _units(bands: list[Band], aggregated: bool) -> float:
    header = 0.0 if aggregated else HEADER
    return sum(header + len(band.rows) * ROW for band in bands) + GAP * max(len(bands) - 1, 0)


def _place(bands: list[Band], units: float, aggregated: bool) -> Placed:
    needed = _units(bands, aggregated)
    stretch = min(MAX_STRETCH, units / needed) if needed else 1.0
    y = (units - needed * stretch) / 2
    rows: dict[int | str, float] = {}
    placed = []
    for band in bands:
        top = y
        y += (0.0 if aggregated else HEADER) * stretch
        for row in band.rows:
            rows[row.key] = y + ROW * stretch / 2
            y += ROW * stretch
        placed.append((band, top, y))
        y += GAP * stretch
    return Placed(rows, placed)


def _draw_bands(axes: Axes, placed: Placed, side: str, aggregated: bool) -> None:
    x0, x1 = (LEFT_EDGE, LEFT_NODE + 0.012) if side == "offer" else (RIGHT_NODE - 0.012, RIGHT_EDGE)
    for index, (band, top, bottom) in enumerate(placed.bands):
        colour = style.BAND if index % 2 == 0 else "white"
        box = FancyBboxPatch(
            (x0, top),
            x1 - x0,
            bottom - top,
            boxstyle="round,pad=0,rounding_size=0.004",
            facecolor=colour,
            edgecolor="#DDDDDD",
            linewidth=0.6,
            zorder=0,
        )
        axes.add_patch(box)
        if aggregated:
            continue
        x, align = (x0 + 0.008, "left") if side == "offer" else (x1 - 0.008, "right")
        axes.text(
            x,
            top + HEADER * 0.55,
            shorten(band.label, BAND_CHARS),
            ha=align,
            va="center",
            fontsize=style.FONT_NAME,
            fontweight="bold",
            color=style.INK,
            zorder=3,
        )


def _draw_rows(axes: Axes, layout: Layout, placed: Placed, side: str) -> None:
    bands = layout.offers if side == "offer" else layout.needs
    linked = layout.linked["offer" if side == "offer" else "need"]
    heaviest = max((row.weight for band in bands for row in band.rows), default=1) or 1
    node, text, align = (LEFT_NODE, LEFT_TEXT, "right") if side == "offer" else (RIGHT_NODE, RIGHT_TEXT, "left")
    for band in bands:
        for row in band.rows:
            y = placed.rows[row.key]
            _marker(axes, node, y, row, linked=row.key in linked, heaviest=heaviest, aggregated=layout.aggregated)
            colour = style.INK if row.key in linked else style.MUTED
            axes.text(
                text, y - 0.12, row.title, ha=align, va="bottom", fontsize=name_size(row.title), color=colour, zorder=3
            )
            axes.text(
                text, y + 0.1, row.topics, ha=align, va="top", fontsize=style.FONT_TOPICS, color=style.MUTED, zorder=3
            )


def name_size(title: str) -> float:
    """Full size up to `FITS` characters (what a side holds beside its node), smaller beyond."""
    return max(style.FONT_NAME * min(1.0, FITS / max(len(title), 1)), MIN_NAME)


def _marker(axes: Axes, x: float, y: float, row: Row, *, linked: bool, heaviest: int, aggregated: bool) -> None:
    shape = style.KIND_MARKERS[row.kind][0] if row.kind is not None else "o"
    size = 60 + 340 * math.sqrt(row.weight / heaviest) if aggregated else 55 + 28 * min(row.weight, 5)
    axes.scatter(
        [x],
        [y],
        s=size,
        marker=shape,
        zorder=4,
        linewidths=1.6,
        facecolors=style.INK if linked else "white",
        edgecolors=style.INK,
    )


def _draw_edges(axes: Axes, layout: Layout, left: Placed, right: Placed) -> None:
    for edge in layout.edges:
        if edge.offer_row not in left.rows or edge.need_row not in right.rows:
            continue
        # a band pair's lines of different stages leave side by side instead of on top of each other
        shift = (edge.stage.rank - 2) * STAGE_SHIFT if layout.aggregated else 0.0
        y0, y1 = left.rows[edge.offer_row] + shift, right.rows[edge.need_row] + shift
        x0, x1 = LEFT_NODE + 0.01, RIGHT_NODE - 0.01
        curve = CurvePath(
            [(x0, y0), (x0 + BEND, y0), (x1 - BEND, y1), (x1, y1)],
            [CurvePath.MOVETO, CurvePath.CURVE4, CurvePath.CURVE4, CurvePath.CURVE4],
        )
        line = style.STAGE_STYLES[edge.stage]
        if layout.aggregated:  # the width says how many links: the same scale for every stage
            width = AGGREGATE_WIDTH * (0.25 + 2.2 * math.sqrt(edge.strength))
        else:
            width = line.width * (0.6 + 1.2 * edge.strength)
        axes.add_patch(
            PathPatch(
                curve,
                facecolor="none",
                edgecolor=line.colour,
                linewidth=width,
                linestyle=style.dash_pattern(line),
                capstyle="round",
                zorder=1 + edge.stage.rank * 0.1,
            )
        )


def _titles(figure: Figure, axes: Axes, synergies: Synergies, layout: Layout, tr: Translator) -> None:
    height = figure.get_figheight()
    figure.text(
        0.012,
        1 - 0.32 / height,
        tr.t("picture.map_title", community=synergies.community),
        ha="left",
        va="top",
        fontsize=style.FONT_TITLE,
        fontweight="bold",
        color=style.INK,
    )
    places = (
        len({band.label for band in (*layout.offers, *layout.needs)})
        if layout.by == "group"
        else len(synergies.cities())
    )
    summary = tr.t(
        BAND_WORDS[layout.by].summary,
        organisations=len(synergies.actors),
        places=places,
        offers=sum(actor.offer_count for actor in synergies.actors.values()),
        needs=sum(actor.need_count for actor in synergies.actors.values()),
        shown=layout.shown_links,
        links=layout.total_links,
    )
    figure.text(0.012, 1 - 0.72 / height, summary, ha="left", va="top", fontsize=style.FONT_LEGEND, color=style.MUTED)
    y = -0.25
    axes.text(
        LEFT_NODE,
        y,
        tr.t("picture.column_offers"),
        ha="right",
        va="bottom",
        fontsize=style.FONT_HEADER,
        fontweight="bold",
        color=style.INK,
    )
    axes.text(
        RIGHT_NODE,
        y,
        tr.t("picture.column_needs"),
        ha="left",
        va="bottom",
        fontsize=style.FONT_HEADER,
        fontweight="bold",
        color=style.INK,
    )
    axes.text(0.5, y, "→", ha="center", va="bottom", fontsize=style.FONT_HEADER, color=style.INK)


def _legends(figure: Figure, layout: Layout, synergies: Synergies, tr: Translator) -> None:
    height = figure.get_figheight()
    lines = [
        Line2D(
            [],
            [],
            color=s.colour,
            linewidth=s.width * 1.2,
            linestyle=style.dash_pattern(s),
            solid_capstyle="round",
            dash_capstyle="round",
        )
        for s in (style.STAGE_STYLES[stage] for stage in STAGES)
    ]
    names = [tr.t(style.STAGE_STYLES[stage].label_key) for stage in STAGES]
    figure.legend(
        lines,
        names,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.55 / height),
        ncol=len(lines),
        frameon=False,
        fontsize=style.FONT_LEGEND,
        handlelength=3.2,
        columnspacing=1.6,
        title=tr.t("picture.legend_links"),
        title_fontsize=style.FONT_LEGEND,
    )
    if layout.aggregated:
        note = tr.t(BAND_WORDS[layout.by].note)
        figure.text(0.5, 0.12 / height, note, ha="center", va="bottom", fontsize=style.FONT_LEGEND, color=style.MUTED)
        return
    kinds = [kind for kind in style.KIND_MARKERS if any(a.kind == kind for a in synergies.actors.values())]
    marks = [
        Line2D([], [], linestyle="none", marker=style.KIND_MARKERS[kind][0], markersize=8, color=style.INK)
        for kind in kinds
    ]
    marks.append(
        Line2D(
            [],
            [],
            linestyle="none",
            marker="o",
            markersize=8,
            markerfacecolor="white",
            markeredgecolor=style.INK,
            markeredgewidth=1.4,
        )
    )
    labels = [tr.t(style.KIND_MARKERS[kind][1]) for kind in kinds] + [tr.t("picture.no_link")]
    figure.legend(
        marks,
        labels,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.08 / height),
        ncol=len(marks),
        frameon=False,
        fontsize=style.FONT_LEGEND,
        columnspacing=1.6,
    )
