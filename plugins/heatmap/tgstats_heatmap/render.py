"""Draw the weekday/hour counts as a PNG made for a phone.

Telegram shows a photo about 400 px wide on a phone.  Twenty-four hour
columns side by side leave a cell 15 px wide there, too narrow for a number,
so the picture is portrait: one row per hour, one column per weekday, and a
total for every hour (right) and every weekday (bottom).  Every cell carries
its count, zeros included, and the busiest cell is outlined.

Drawn with Pillow: a grid of rectangles and numbers needs no plotting
library, and Pillow is thread-safe (commands render in worker threads).
matplotlib provides the colormaps and the DejaVu font.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = ["WEEKDAYS", "compact_count", "peak_cell", "render_heatmap"]

_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
_REGULAR = str(_FONTS / "DejaVuSans.ttf")
_BOLD = str(_FONTS / "DejaVuSans-Bold.ttf")

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Rows: a header, 24 hours, the weekday totals.  Columns: the hour labels,
# seven weekdays, the hour totals.
_ROWS = 26
_LABEL_COLUMN = 0.9  # width of the hour-label column, in cell widths

_INK = (33, 33, 33)
_MUTED = (110, 110, 110)
_TOTALS_BACKGROUND = (236, 236, 236)

# Below this cell height (in pixels of the picture) numbers can't be read.
_MIN_CELL_HEIGHT_PX = 14

Box = tuple[float, float, float, float]


def compact_count(n: int) -> str:
    """``999`` -> ``999``, ``1234`` -> ``1.2k``, ``56789`` -> ``57k``, ``1.2M``."""
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


def peak_cell(matrix: Sequence[Sequence[int]]) -> tuple[int, int, int]:
    """(count, weekday, hour) of the busiest cell; ties go to the earliest weekday and hour."""
    count, day, hour = max((matrix[d][h], -d, -h) for d in range(7) for h in range(24))
    return count, -day, -hour


@lru_cache(maxsize=32)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """Cut ``text`` (chat names can be long) to ``width`` pixels, ending in '…'."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


class _Grid:
    """Where each cell of the 8 x 26 grid lies on the picture."""

    def __init__(self, left: float, top: float, cell_w: float, cell_h: float) -> None:
        self.left, self.top, self.cell_w, self.cell_h = left, top, cell_w, cell_h

    def cell(self, column: int, row: int) -> Box:
        x0, y0 = self.left + column * self.cell_w, self.top + row * self.cell_h
        return x0, y0, x0 + self.cell_w, y0 + self.cell_h

    def centre(self, column: int, row: int) -> tuple[float, float]:
        x0, y0, x1, y1 = self.cell(column, row)
        return (x0 + x1) / 2, (y0 + y1) / 2


def render_heatmap(
    matrix: Sequence[Sequence[int]],
    *,
    title: str,
    subtitle: str,
    width: int,
    height: int,
    colormap: str,
    annotate: bool = True,
    weekdays: Sequence[str] = WEEKDAYS,
    total_label: str = "All",
) -> bytes:
    """PNG bytes of exactly ``width`` x ``height`` pixels.

    ``weekdays`` (Monday first) and ``total_label`` head the columns and the
    totals row, in the reply's language.
    """
    data = np.asarray(matrix, dtype=np.int64)
    if data.shape != (7, 24):
        raise ValueError(f"heatmap matrix must be 7x24 (weekday x hour), got {data.shape}")
    picture = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(picture)

    margin = round(width * 0.035)
    title_font = _font(_BOLD, max(8, round(width * 0.045)))
    subtitle_font = _font(_REGULAR, max(7, round(width * 0.032)))
    y = margin
    draw.text((margin, y), _fit(draw, title, title_font, width - 2 * margin), _INK, title_font)
    y += round(title_font.size * 1.35)
    draw.text(
        (margin, y), _fit(draw, subtitle, subtitle_font, width - 2 * margin), _MUTED, subtitle_font
    )
    top = y + round(subtitle_font.size * 1.8)

    cell_w = (width - 2 * margin) / (8 + _LABEL_COLUMN)
    cell_h = (height - top - margin) / _ROWS
    grid = _Grid(margin + cell_w * _LABEL_COLUMN, top, cell_w, cell_h)
    numbers = annotate and cell_h >= _MIN_CELL_HEIGHT_PX
    size = max(6, round(min(cell_h * 0.5, cell_w * 0.3)))
    regular, bold = _font(_REGULAR, size), _font(_BOLD, size)

    for column, name in enumerate((*weekdays, total_label)):
        draw.text(grid.centre(column, 0), name, _INK, bold if column == 7 else regular, anchor="mm")
    label_x = grid.left - cell_w * 0.12
    for hour in range(24):
        label_y = grid.centre(0, hour + 1)[1]
        draw.text((label_x, label_y), f"{hour:02d}", _MUTED, regular, anchor="rm")
    draw.text((label_x, grid.centre(0, 25)[1]), total_label, _INK, bold, anchor="rm")

    peak, peak_day, peak_hour = peak_cell(data.tolist())
    cmap = matplotlib.colormaps[colormap]
    for day in range(7):
        for hour in range(24):
            value = int(data[day, hour])
            red, green, blue, _ = cmap(value / peak if peak else 0.0)
            draw.rectangle(
                grid.cell(day, hour + 1),
                fill=(round(red * 255), round(green * 255), round(blue * 255)),
            )
            if numbers:
                # Dark text on light cells, light text on dark ones (perceived luminance).
                light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.55
                ink = (_INK if value else _MUTED) if light else (255, 255, 255)
                font = bold if value == peak and peak else regular
                draw.text(grid.centre(day, hour + 1), compact_count(value), ink, font, anchor="mm")
    # Thin white lines between cells read better than touching colour blocks.
    line = max(1, width // 400)
    for column in range(8):
        x = grid.left + column * cell_w
        draw.line((x, top + cell_h, x, top + 25 * cell_h), fill="white", width=line)
    for row in range(1, 26):
        row_y = top + row * cell_h
        draw.line((grid.left, row_y, grid.left + 7 * cell_w, row_y), fill="white", width=line)

    for hour in range(24):
        _total(draw, grid.cell(7, hour + 1), int(data[:, hour].sum()), bold, numbers)
    for day in range(7):
        _total(draw, grid.cell(day, 25), int(data[day].sum()), bold, numbers)
    _total(draw, grid.cell(7, 25), int(data.sum()), bold, numbers)

    if peak:
        # Black outside, white inside: visible on the palest and the darkest colour.
        edge = max(2, round(cell_h * 0.09))
        x0, y0, x1, y1 = grid.cell(peak_day, peak_hour + 1)
        draw.rectangle((x0 - edge, y0 - edge, x1 + edge, y1 + edge), outline=_INK, width=edge)
        draw.rectangle((x0, y0, x1, y1), outline="white", width=max(1, edge // 2))

    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _total(
    draw: ImageDraw.ImageDraw, box: Box, value: int, font: ImageFont.FreeTypeFont, numbers: bool
) -> None:
    x0, y0, x1, y1 = box
    draw.rectangle((x0 + 1, y0 + 1, x1 - 1, y1 - 1), fill=_TOTALS_BACKGROUND)
    if numbers:
        draw.text(((x0 + x1) / 2, (y0 + y1) / 2), compact_count(value), _INK, font, anchor="mm")
