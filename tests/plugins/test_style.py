"""tgstats.plugins.style: the pictures' shared look, drawn for real."""

from __future__ import annotations

import io
import subprocess
import sys

from matplotlib.figure import Figure
from PIL import Image, ImageDraw
from tgstats.plugins import style


def test_the_sdk_imports_without_loading_the_drawing_libraries() -> None:
    # The host does not depend on Pillow or matplotlib: only drawing plugins do.
    code = "import sys, tgstats.plugins; print('matplotlib' in sys.modules, 'PIL' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["False", "False"]


def test_canvas_draws_the_header_and_says_where_the_body_starts() -> None:
    image, top = style.canvas(1080, 600, title="Hiking & Coffee Club", subtitle="Last 30 days")
    assert image.size == (1080, 600)
    assert top == style.header_height(1080)
    # The same proportions as the heatmap's header: margin 3.5 %, title 4.5 %, subtitle 3.2 %.
    assert top == 38 + round(49 * 1.35) + round(35 * 1.8)
    pixels = image.load()
    inked = [y for y in range(top) for x in range(0, 1080, 3) if pixels[x, y] == style.INK]
    assert inked and min(inked) >= style.margin(1080) - 2  # the title, below the margin
    below = {pixels[x, y] for y in range(top, 600) for x in range(0, 1080, 7)}
    assert below == {style.BACKGROUND}  # the body is left to the plugin


def test_fit_text_cuts_long_names_with_an_ellipsis() -> None:
    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    font = style.font(30, bold=True)
    assert style.fit_text(draw, "short", font, 500) == "short"
    cut = style.fit_text(draw, "a very long chat title " * 10, font, 300)
    assert cut.endswith("…") and draw.textlength(cut, font=font) <= 300
    # as long as fits: one more character would not
    longer = ("a very long chat title " * 10)[: len(cut)] + "…"
    assert draw.textlength(longer, font=font) > 300
    # A hostile 1 MB name costs a few measurements, not a million.
    huge = style.fit_text(draw, "W" * 1_000_000, font, 300)
    assert huge.startswith("W") and huge.endswith("…") and len(huge) < 20


def test_figure_image_and_png_bytes() -> None:
    dpi = style.figure_dpi(800)
    assert dpi == 200
    figure = Figure(figsize=(4, 2), dpi=dpi)
    figure.add_subplot().bar([1, 2], [3, 4], color=style.hex_colour(style.PRIMARY))
    picture = style.figure_image(figure)
    assert picture.size == (800, 400) and picture.mode == "RGB"
    with Image.open(io.BytesIO(style.png_bytes(picture))) as decoded:
        assert decoded.format == "PNG" and decoded.size == (800, 400)
        assert style.PRIMARY in {c for _, c in decoded.getcolors(1 << 20)}


def test_colours_and_counts() -> None:
    assert style.hex_colour((227, 74, 51)) == "#e34a33"
    assert style.colormap_rgb(0.0) == (255, 255, 204)  # YlOrRd's palest
    assert style.colormap_rgb(5.0) == style.colormap_rgb(1.0)  # clamped
    assert [style.compact_count(n) for n in (999, 1234, 56789, 1_200_000)] == [
        "999",
        "1.2k",
        "56k",
        "1.2M",
    ]
    rc = style.matplotlib_rc(1080)
    assert rc["font.family"] == "DejaVu Sans" and rc["axes.grid"] is True
