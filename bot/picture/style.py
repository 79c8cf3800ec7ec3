"""The pictures' visual vocabulary, written once: the Okabe-Ito colour-blind-safe palette, one line
style per link stage (colour AND dash AND width, so no reader depends on colour alone), one marker
shape per kind of organisation, and the font sizes that stay legible at chat preview sizes."""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.typing import LineStyleType

from bot.i18n import N_
from bot.picture.data import Stage
from storage.models import OrganisationKind

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
GREY = "#8C8C8C"
INK = "#1A1A1A"  # text and filled markers: near-black reads softer than pure black
MUTED = "#5A5A5A"  # secondary text (topics), still 7:1 against white
BAND = "#F1F1F1"  # every other city band

KEY_COLOURS = ("#FFFFFF", BAND, INK, MUTED, GREY, SKY_BLUE, ORANGE, BLUE, VERMILLION, BLUISH_GREEN, REDDISH_PURPLE)

DPI = 110
FONT_TITLE = 17
FONT_HEADER = 13
FONT_NAME = 11
FONT_TOPICS = 8.5
FONT_LEGEND = 10


@dataclass(frozen=True, slots=True)
class LineStyle:
    colour: str
    dashes: tuple[float, ...] | None  # on/off lengths in line widths; None: solid
    width: float
    label_key: str


# Weakest first; the further a link went, the darker, more solid and thicker its line.
STAGE_STYLES: dict[Stage, LineStyle] = {
    Stage.possible: LineStyle(GREY, (1.0, 1.6), 1.2, N_("picture.stage_possible")),
    Stage.suggested: LineStyle(SKY_BLUE, (4.0, 2.0), 1.8, N_("picture.stage_suggested")),
    Stage.accepted: LineStyle(ORANGE, (6.0, 2.0, 1.5, 2.0), 2.4, N_("picture.stage_accepted")),
    Stage.introduced: LineStyle(BLUE, None, 2.8, N_("picture.stage_introduced")),
    Stage.met: LineStyle(VERMILLION, None, 4.0, N_("picture.stage_met")),
}

# The funnel's bars use the same colour for the same stage as the map's lines.
FUNNEL_COLOURS = (SKY_BLUE, ORANGE, BLUE, VERMILLION, BLUISH_GREEN)
FUNNEL_HATCHES = ("", "//", "", "..", "xx")  # a second cue besides colour, for print in grey

KIND_MARKERS: dict[OrganisationKind, tuple[str, str]] = {
    OrganisationKind.city: ("s", N_("picture.kind_city")),
    OrganisationKind.sse_actor: ("o", N_("picture.kind_sse_actor")),
    OrganisationKind.partner: ("D", N_("picture.kind_partner")),
    OrganisationKind.other: ("^", N_("picture.kind_other")),
}


def dash_pattern(style: LineStyle) -> LineStyleType:
    """Matplotlib's dash form (lengths in line widths: matplotlib scales dashes by the width)."""
    if style.dashes is None:
        return "solid"
    return (0.0, style.dashes)
