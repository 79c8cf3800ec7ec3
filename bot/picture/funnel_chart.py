"""The funnel chart: suggested → accepted → introduced → met → useful, round by round, oldest on
the left. Each stage keeps the colour its links have on the synergy map, plus a hatch, so the chart
also reads in grey print and without colour vision."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from babel.dates import format_date
from matplotlib.ticker import MaxNLocator

from bot.i18n import N_, Translator
from bot.outcomes import Funnel
from bot.picture import style
from bot.picture.png import new_figure, one_at_a_time, png_bytes

STAGE_KEYS = (
    N_("picture.stage_suggested"),
    N_("picture.stage_accepted"),
    N_("picture.stage_introduced"),
    N_("picture.stage_met"),
    N_("picture.stage_useful"),
)
WIDTH, HEIGHT = 10.0, 5.6  # inches: 1,100 x 616 px, a chat preview shows it whole
BAR_GROUP = 0.8  # share of a round's slot the five bars fill


def _values(figures: Funnel) -> tuple[int, int, int, int, int]:
    return figures.suggested, figures.accepted, figures.introduced, figures.met, figures.useful


@one_at_a_time
def draw_funnel(rounds: Sequence[Funnel], tr: Translator, *, zone: ZoneInfo) -> bytes:
    """`rounds` in any order; drawn oldest first."""
    ordered = sorted(rounds, key=lambda figures: (figures.created_at, figures.round_id))
    figure = new_figure(WIDTH, HEIGHT)
    axes = figure.add_axes((0.07, 0.2, 0.91, 0.66))
    width = BAR_GROUP / len(STAGE_KEYS)
    tallest = max((max(_values(figures)) for figures in ordered), default=0) or 1
    for stage, key in enumerate(STAGE_KEYS):
        xs = [index + (stage - (len(STAGE_KEYS) - 1) / 2) * width for index in range(len(ordered))]
        heights = [_values(figures)[stage] for figures in ordered]
        bars = axes.bar(
            xs,
            heights,
            width * 0.92,
            color=style.FUNNEL_COLOURS[stage],
            edgecolor=style.INK,
            linewidth=0.6,
            hatch=style.FUNNEL_HATCHES[stage],
            label=tr.t(key),
        )
        axes.bar_label(bars, padding=2, fontsize=style.FONT_TOPICS + 0.5, color=style.INK)
    axes.set_xticks(
        range(len(ordered)), [_round_label(figures, tr, zone) for figures in ordered], fontsize=style.FONT_LEGEND
    )
    axes.set_ylim(0, tallest * 1.15)
    axes.set_ylabel(tr.t("picture.funnel_axis"), fontsize=style.FONT_LEGEND, color=style.MUTED)
    axes.tick_params(axis="y", labelsize=style.FONT_TOPICS + 0.5, colors=style.MUTED)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # matches are counted, never halves
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.grid(axis="y", color="#E4E4E4", linewidth=0.8)
    axes.set_axisbelow(True)
    figure.text(
        0.012,
        0.97,
        tr.t("picture.funnel_title"),
        ha="left",
        va="top",
        fontsize=style.FONT_HEADER + 1,
        fontweight="bold",
        color=style.INK,
    )
    figure.legend(
        loc="lower center", ncol=len(STAGE_KEYS), frameon=False, fontsize=style.FONT_LEGEND, bbox_to_anchor=(0.5, 0.0)
    )
    return png_bytes(figure)


def _round_label(figures: Funnel, tr: Translator, zone: ZoneInfo) -> str:
    day = format_date(figures.created_at.astimezone(zone), "medium", locale=tr.language)
    return tr.t("picture.funnel_round", round=figures.round_id, date=day)
