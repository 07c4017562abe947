"""Draw a 7x24 weekday/hour matrix as a PNG.

Uses matplotlib's object API (``Figure`` + the Agg canvas), never pyplot:
pyplot keeps global state and commands render in worker threads.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from PIL import Image, ImageDraw, ImageFont

__all__ = ["WEEKDAYS", "compact_count", "render_heatmap"]

# DejaVu Sans as shipped with matplotlib: the same face as the axis labels.
_FONT = str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Below this many pixels per cell the numbers would overlap or be unreadable.
_MIN_CELL_WIDTH_PX = 26
_MIN_CELL_HEIGHT_PX = 16


def compact_count(n: int) -> str:
    """``999`` -> ``999``, ``1234`` -> ``1.2k``, ``56789`` -> ``57k``, ``1.2M``."""
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1_000_000:.1f}M"


def render_heatmap(
    matrix: Sequence[Sequence[int]],
    *,
    title: str,
    zone_name: str,
    width: float,
    height: float,
    dpi: int,
    colormap: str,
    annotate: bool = True,
) -> bytes:
    """PNG bytes of exactly ``width*dpi`` x ``height*dpi`` pixels."""
    data = np.asarray(matrix, dtype=np.int64)
    if data.shape != (7, 24):
        raise ValueError(f"heatmap matrix must be 7x24 (weekday x hour), got {data.shape}")

    # Fixed margins in inches instead of constrained layout: constrained layout
    # draws the figure an extra time (half the rendering cost) and
    # bbox_inches="tight" would change the configured pixel size.
    fig = Figure(figsize=(width, height), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    left, right, bottom, top, bar = 0.6, 1.05, 0.55, 0.45, 0.18
    ax = fig.add_axes(
        (
            left / width,
            bottom / height,
            1 - (left + right) / width,
            1 - (bottom + top) / height,
        )
    )
    cax = fig.add_axes(
        ((width - right + 0.12) / width, bottom / height, bar / width, 1 - (bottom + top) / height)
    )
    image = ax.imshow(data, aspect="auto", cmap=colormap, interpolation="nearest", vmin=0)
    ax.set_xticks(range(24), [f"{h:02d}" for h in range(24)])
    ax.set_yticks(range(7), WEEKDAYS)
    ax.set_xlabel(f"Hour of day ({zone_name})")
    ax.set_ylabel("Weekday")
    ax.set_title(_fit(title, width))
    ax.tick_params(length=0)
    # Thin white lines between cells read better than touching colour blocks;
    # two line collections cost far less than a grid on 33 minor ticks.
    ax.vlines(np.arange(-0.5, 24.5, 1), -0.5, 6.5, colors="white", linewidth=1)
    ax.hlines(np.arange(-0.5, 7.5, 1), -0.5, 23.5, colors="white", linewidth=1)
    ax.set_xlim(-0.5, 23.5)
    ax.set_ylim(6.5, -0.5)  # Monday on top, as imshow lays it out
    for spine in ax.spines.values():
        spine.set_visible(False)
    colorbar = fig.colorbar(image, cax=cax)
    colorbar.set_label("Messages")

    canvas.draw()
    picture = Image.fromarray(np.asarray(canvas.buffer_rgba()), "RGBA").convert("RGB")
    if annotate and _cells_readable(width, height, dpi):
        _annotate(picture, ax, data, image, dpi)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _fit(title: str, width: float) -> str:
    """Cut a long title (chat names can be long) to what fits across the figure."""
    limit = max(20, int(width * 72 / (12 * 0.55)))  # 12 pt title, ~0.55 em per character
    return title if len(title) <= limit else title[: limit - 1] + "…"


def _cells_readable(width: float, height: float, dpi: int) -> bool:
    # The axes take roughly 80% of the width and 75% of the height.
    cell_w = width * dpi * 0.8 / 24
    cell_h = height * dpi * 0.75 / 7
    return cell_w >= _MIN_CELL_WIDTH_PX and cell_h >= _MIN_CELL_HEIGHT_PX


def _annotate(picture: Image.Image, ax: Axes, data: np.ndarray, image: AxesImage, dpi: int) -> None:
    """Write each cell's count onto the rendered picture.

    Drawn with Pillow after matplotlib has rendered the figure: 168 matplotlib
    Text artists cost more than the rest of the figure together.
    """
    font = ImageFont.truetype(_FONT, max(6, round(7 * dpi / 72)))  # 7 pt
    draw = ImageDraw.Draw(picture)
    height = picture.height
    for day in range(7):
        for hour in range(24):
            value = int(data[day, hour])
            if value == 0:
                continue
            # matplotlib's stubs type Norm.__call__ for arrays only; Normalize
            # maps a scalar to a scalar, as documented.
            red, green, blue, _ = image.cmap(image.norm(value))  # type: ignore[arg-type]
            # Dark text on light cells, light text on dark ones (perceived luminance).
            luminance = 0.299 * red + 0.587 * green + 0.114 * blue
            x, y = ax.transData.transform((hour, day))
            draw.text(
                (float(x), height - float(y)),
                compact_count(value),
                font=font,
                fill="black" if luminance > 0.5 else "white",
                anchor="mm",
            )
