"""A matplotlib figure as small PNG bytes, drawn with the Agg backend (no display, no pyplot state:
each picture is its own `Figure`, so concurrent requests never share a canvas)."""

from __future__ import annotations

import io
import struct
import threading
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from bot.picture.style import DPI, KEY_COLOURS

PALETTE_COLOURS = 128  # octree keeps the legend's small colour patches; the file shrinks about fourfold
NEAR = 12  # channel difference under which an adaptive colour is a style colour
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Matplotlib is not thread-safe (its font objects are shared, its docs ask callers for a lock), and
# chat requests are answered in worker threads: one picture is drawn at a time in a process.
_DRAWING = threading.Lock()
P = ParamSpec("P")
R = TypeVar("R")


def one_at_a_time(draw: Callable[P, R]) -> Callable[P, R]:
    @wraps(draw)
    def serialised(*args: P.args, **kwargs: P.kwargs) -> R:
        with _DRAWING:
            return draw(*args, **kwargs)

    return serialised


def new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    return figure


def png_bytes(figure: Figure) -> bytes:
    raw = io.BytesIO()
    # Agg's pixels as they are: no PNG written and read back before the palette pass
    figure.savefig(raw, format="rgba", dpi=DPI, facecolor="white")
    size = figure.canvas.get_width_height()
    image = Image.frombuffer("RGBA", size, raw.getvalue(), "raw", "RGBA", 0, 1)
    small = _quantised(image.convert("RGB"))
    out = io.BytesIO()
    small.save(out, format="PNG", compress_level=6)  # level 9 saves 5 % for eight times the time
    return out.getvalue()


def _quantised(image: Image.Image) -> Image.Image:
    """At most `PALETTE_COLOURS` colours: the style's own colours exactly, the rest chosen by octree
    for anti-aliased edges. Octree colours close to a style colour are dropped: Pillow maps pixels
    through a coarse colour cache, which would otherwise turn white into a near-white grey."""
    fixed = [tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5)) for colour in KEY_COLOURS]
    found = image.quantize(PALETTE_COLOURS - len(fixed), method=Image.Quantize.FASTOCTREE).getpalette() or []
    adaptive = [tuple(found[i : i + 3]) for i in range(0, len(found), 3)]
    extra = [rgb for rgb in adaptive if all(max(abs(a - b) for a, b in zip(rgb, f, strict=True)) > NEAR for f in fixed)]
    palette = Image.new("P", (1, 1))
    palette.putpalette([channel for rgb in (*fixed, *extra[: PALETTE_COLOURS - len(fixed)]) for channel in rgb])
    return image.quantize(palette=palette, dither=Image.Dither.NONE)


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header; ValueError when `data` is no PNG."""
    if data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)
