"""The look of the shipped plugins' pictures, in one place a plugin can use.

Telegram shows a photo about 400 px wide on a phone, so pictures are drawn
:data:`WIDTH` px wide (2.7 times that, for sharp text) and every size here is
a fraction of the width.  A picture is a white canvas with a header (the
chat's name in bold, a muted line with the period and the totals) over its
body; the heatmap and the word cloud draw the same header with the same
proportions, fonts (DejaVu Sans, shipped with matplotlib, so every machine
has it) and ink colours.

Use it from a plugin as ``from tgstats.plugins import style``::

    image, top = style.canvas(style.WIDTH, 1200, title="My chat", subtitle="Last 30 days")
    ...draw below ``top``...
    return PhotoReply(png=style.png_bytes(image))

A matplotlib :class:`~matplotlib.figure.Figure` (object API only: pyplot is
not thread-safe) becomes a Pillow image with :func:`figure_image`; set its
fonts with :func:`matplotlib_rc` so they match the header.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Pillow and matplotlib are the drawing plugins' dependencies, not the
# host's: they are imported when a picture is drawn, so the SDK imports
# without them.
if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "ACCENT",
    "BACKGROUND",
    "COLORMAP",
    "INK",
    "MUTED",
    "PANEL",
    "PRIMARY",
    "SECONDARY",
    "WIDTH",
    "canvas",
    "colormap_rgb",
    "compact_count",
    "draw_header",
    "figure_dpi",
    "figure_image",
    "fit_text",
    "font",
    "header_height",
    "hex_colour",
    "margin",
    "matplotlib_rc",
    "png_bytes",
]

RGB = tuple[int, int, int]

WIDTH = 1080  # px; shown about 400 px wide on a phone
BACKGROUND: RGB = (255, 255, 255)
INK: RGB = (33, 33, 33)  # titles, numbers
MUTED: RGB = (110, 110, 110)  # subtitles, axis labels
PANEL: RGB = (236, 236, 236)  # totals cells, grid lines, empty bars
# The heatmap's colormap; the solid colours are taken from it, so a bar
# chart or a graph reads as the same family of pictures.
COLORMAP = "YlOrRd"
PRIMARY: RGB = (227, 74, 51)  # YlOrRd near its dark end: the main series
SECONDARY: RGB = (253, 141, 60)  # YlOrRd's middle: a second series
ACCENT: RGB = (128, 0, 38)  # YlOrRd's darkest: outlines, highlights


@lru_cache(maxsize=1)
def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def margin(width: int) -> int:
    return round(width * 0.035)


@lru_cache(maxsize=64)
def font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans (bold) at ``size`` px, cached (loading a font file costs milliseconds).

    DejaVu ships with matplotlib, so every machine that draws has it.
    """
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(_font_dir() / name), max(6, size))


def _title_font(width: int) -> ImageFont.FreeTypeFont:
    return font(max(8, round(width * 0.045)), bold=True)


def _subtitle_font(width: int) -> ImageFont.FreeTypeFont:
    return font(max(7, round(width * 0.032)))


def fit_text(
    draw: ImageDraw.ImageDraw, text: str, typeface: ImageFont.FreeTypeFont, width: float
) -> str:
    """``text`` cut to ``width`` pixels, ending in '…' (chat and member names can be long)."""
    if draw.textlength(text, font=typeface) <= width:
        return text
    # Binary search for the longest prefix that fits with its '…': a few
    # measurements whatever the length (names come from users).
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if draw.textlength(text[:middle] + "…", font=typeface) <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "…"


def header_height(width: int) -> int:
    """Pixels from the top of the picture to where its body starts."""
    title, subtitle = _title_font(width), _subtitle_font(width)
    return margin(width) + round(title.size * 1.35) + round(subtitle.size * 1.8)


def draw_header(image: Image.Image, title: str, subtitle: str) -> int:
    """Title and subtitle at the top of ``image``; returns the y where the body starts."""
    from PIL import ImageDraw

    width = image.width
    draw = ImageDraw.Draw(image)
    side = margin(width)
    title_font, subtitle_font = _title_font(width), _subtitle_font(width)
    y = side
    draw.text((side, y), fit_text(draw, title, title_font, width - 2 * side), INK, title_font)
    y += round(title_font.size * 1.35)
    draw.text(
        (side, y), fit_text(draw, subtitle, subtitle_font, width - 2 * side), MUTED, subtitle_font
    )
    return y + round(subtitle_font.size * 1.8)


def canvas(width: int, height: int, *, title: str, subtitle: str) -> tuple[Image.Image, int]:
    """A white picture with its header drawn; returns it and the y where the body starts."""
    from PIL import Image

    image = Image.new("RGB", (width, height), BACKGROUND)
    return image, draw_header(image, title, subtitle)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def hex_colour(rgb: RGB) -> str:
    """``(227, 74, 51)`` -> ``'#e34a33'``, for matplotlib."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def colormap_rgb(value: float, name: str = COLORMAP) -> RGB:
    """The colour at ``value`` (0..1) of a matplotlib colormap, as 0-255 RGB."""
    import matplotlib

    red, green, blue, _ = matplotlib.colormaps[name](min(1.0, max(0.0, value)))
    return round(red * 255), round(green * 255), round(blue * 255)


def matplotlib_rc(width: int) -> dict[str, Any]:
    """rcParams for :func:`matplotlib.rc_context` that match the header at ``width`` px.

    Sizes are in points of a figure :func:`figure_image` draws ``width`` px
    wide at 100 points per 400 px, i.e. as they appear on a phone.
    """
    return {
        "font.family": "DejaVu Sans",
        "font.size": 10,
        "axes.edgecolor": hex_colour(PANEL),
        "axes.labelcolor": hex_colour(MUTED),
        "axes.titlecolor": hex_colour(INK),
        "axes.titlesize": 10.5,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "xtick.color": hex_colour(MUTED),
        "ytick.color": hex_colour(MUTED),
        "xtick.labelsize": 8.5,
        "ytick.labelsize": 8.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.grid.axis": "y",
        "grid.color": hex_colour(PANEL),
        "grid.linewidth": 0.8,
        "figure.facecolor": hex_colour(BACKGROUND),
        "axes.facecolor": hex_colour(BACKGROUND),
    }


def figure_dpi(width: int) -> float:
    """Dots per inch that make a 4-inch-wide figure ``width`` px (400 px = 4 in x 100)."""
    return width / 4.0


def figure_image(figure: Figure) -> Image.Image:
    """Draw a matplotlib figure with the Agg backend (thread-safe) into a Pillow RGB image."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    agg = FigureCanvasAgg(figure)
    agg.draw()
    return Image.frombuffer("RGBA", agg.get_width_height(), agg.buffer_rgba()).convert("RGB")


def compact_count(n: int) -> str:
    """``999`` -> ``999``, ``1234`` -> ``1.2k``, ``56789`` -> ``57k``, ``1.2M``."""
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"
