"""Lay out and draw the word cloud with the ``wordcloud`` library, one font per script.

``wordcloud.WordCloud`` draws every word with a single font.  A chat that
mixes scripts needs several (DejaVu has no CJK; CJK fonts have no Arabic),
so words are grouped by the font that covers them and laid out pass by pass,
most frequent words first (see ``_passes``): each pass goes into the space
the earlier ones left (passed to WordCloud as a mask) and continues their
font-size progression, so sizes stay comparable across fonts.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import arabic_reshaper
import matplotlib
import numpy as np
from bidi import get_display
from PIL import Image, ImageColor, ImageDraw, ImageFilter, ImageFont, features
from wordcloud import WordCloud

__all__ = ["display_form", "is_rtl", "render_cloud"]

# Pillow built with libraqm shapes and reorders right-to-left text itself;
# shaping it beforehand would reverse it twice.
_PILLOW_SHAPES_TEXT = bool(features.check("raqm"))
# Longest side of the canvas the layout is computed on (see render_cloud).
_LAYOUT_SIDE = 360
# The subtitle (period and counts, plain ASCII) is drawn with matplotlib's DejaVu Sans.
_DEFAULT_FONT = str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
# Rank bands laid out one after another when a cloud needs several fonts.
_BANDS = ((0, 5), (5, 20), (20, 60), (60, None))


def is_rtl(word: str) -> bool:
    return any("\u0590" <= c <= "\u08ff" or "\ufb1d" <= c <= "\ufefc" for c in word)


def display_form(word: str, *, pillow_shapes: bool = _PILLOW_SHAPES_TEXT) -> str:
    """The string to hand to Pillow so a word shows as a reader expects.

    Without libraqm Pillow draws code points left to right, unjoined: Arabic
    letters are replaced by their joined presentation forms (arabic-reshaper)
    and right-to-left words are put in visual order (python-bidi).
    """
    if pillow_shapes or not is_rtl(word):
        return word
    return get_display(arabic_reshaper.reshape(word))


def render_cloud(
    frequencies: Mapping[str, int],
    fonts: Mapping[str, str],
    *,
    width: int,
    height: int,
    background: str,
    colormap: str,
    title: str = "",
    subtitle: str = "",
    title_font: str | None = None,
    relative_scaling: float = 0.5,
    seed: int = 0,
) -> bytes:
    """PNG of ``width`` x ``height`` pixels; ``fonts`` maps every word to its font file.

    Every word is horizontal (rotated words are hard to read on a phone), and
    its colour, like its size, says how often it was used: the commonest words
    take the dark end of ``colormap``, the rarest stop well before its light
    end, so that no word fades into the background.  ``title`` and
    ``subtitle`` go in a band above the cloud, drawn with ``title_font``.
    """
    if not frequencies:
        raise ValueError("render_cloud needs at least one word")
    passes = _passes(frequencies, fonts)
    band = _title_band(width, title, subtitle)
    cloud_height = height - band

    # WordCloud's layout cost grows with the canvas area: lay out on a canvas
    # `scale` times smaller and let WordCloud draw the words `scale` times larger.
    scale = max(1, round(max(width, cloud_height) / _LAYOUT_SIDE))
    small_w, small_h = max(1, width // scale), max(1, cloud_height // scale)
    bg = np.array(ImageColor.getrgb(background)[:3], dtype=np.uint8)
    canvas = np.empty((small_h * scale, small_w * scale, 3), dtype=np.uint8)
    canvas[:] = bg
    occupied = np.zeros((small_h, small_w), dtype=bool)  # in layout pixels
    last: tuple[int, int] | None = None  # (font size, count) of the last word placed

    for font_path, words in passes:
        cloud = WordCloud(
            font_path=font_path,
            width=small_w,
            height=small_h,
            scale=scale,
            background_color=background,
            # A colour function of our own: WordCloud's colormap= option imports pyplot.
            color_func=_FrequencyColors(colormap, frequencies),
            relative_scaling=relative_scaling,
            prefer_horizontal=1.0,
            max_words=len(words),
            random_state=seed,
            mask=_mask(occupied) if occupied.any() else None,
            collocations=False,
            # Wide margins: at scale 2, WordCloud (1.9 with Pillow 10+) can draw a
            # word a few layout pixels off its box, onto its neighbour.
            margin=4,
        )
        max_size = None
        if last is not None:
            # Continue WordCloud's own size step from the previous pass's last word.
            step = relative_scaling * max(words.values()) / last[1] + 1 - relative_scaling
            max_size = max(4, round(last[0] * step))
        cloud.generate_from_frequencies(words, max_font_size=max_size)
        if not cloud.layout_:
            continue
        (_, rel), size, *_ = cloud.layout_[-1]
        last = (size, max(1, round(rel * max(words.values()))))
        drawn = np.asarray(cloud.to_image().convert("RGB"), dtype=np.uint8)
        drawn = drawn[: canvas.shape[0], : canvas.shape[1]]
        ink = (drawn != bg).any(axis=2)
        ink &= ~np.repeat(np.repeat(occupied, scale, axis=0), scale, axis=1)
        canvas[ink] = drawn[ink]
        occupied |= ink.reshape(small_h, scale, small_w, scale).any(axis=(1, 3))

    # Integer scaling can leave a strip of fewer than `scale` pixels: pad it.
    image = Image.new("RGB", (width, height), tuple(int(c) for c in bg))
    image.paste(Image.fromarray(canvas, "RGB"), (0, band))
    if band:
        _draw_title(image, title, subtitle, title_font or _DEFAULT_FONT, background)
    buffer = io.BytesIO()
    # Level 3 instead of 6: a third of the encoding time for a few % larger files.
    image.save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


class _FrequencyColors:
    """WordCloud colour function: a word's frequency picks its colour (no pyplot).

    Log-scaled like the sizes, so the middle of the cloud is not all one hue;
    limited to the first 60 % of the colormap, whose far end (viridis'
    yellow-green) is too pale to read on white.
    """

    _DARKEST, _LIGHTEST = 0.0, 0.6

    def __init__(self, name: str, frequencies: Mapping[str, int]) -> None:
        self.colormap = matplotlib.colormaps[name]
        self.frequencies = frequencies
        self.top = math.log(max(frequencies.values()) + 1)
        self.bottom = math.log(min(frequencies.values()) + 1)

    def __call__(self, word: str, *_args: Any, **_kw: Any) -> str:
        count = math.log(self.frequencies.get(word, 1) + 1)
        span = self.top - self.bottom
        rarity = (self.top - count) / span if span else 0.0
        value = self._DARKEST + rarity * (self._LIGHTEST - self._DARKEST)
        red, green, blue, _ = (max(0.0, 255 * c) for c in self.colormap(value))
        return f"rgb({red:.0f}, {green:.0f}, {blue:.0f})"


def _title_band(width: int, title: str, subtitle: str) -> int:
    """Height in pixels of the band above the cloud (0 without a title)."""
    if not title and not subtitle:
        return 0
    return round(width * 0.045 * 1.35 + width * 0.032 * 1.6 + width * 0.05)


def _draw_title(image: Image.Image, title: str, subtitle: str, font: str, background: str) -> None:
    draw = ImageDraw.Draw(image)
    width = image.width
    margin = round(width * 0.03)
    red, green, blue = ImageColor.getrgb(background)[:3]
    luminance = 0.299 * red + 0.587 * green + 0.114 * blue
    ink, muted = ((33, 33, 33), (110, 110, 110)) if luminance > 128 else ((240,) * 3, (190,) * 3)
    title_font = ImageFont.truetype(font, max(8, round(width * 0.045)))
    subtitle_font = ImageFont.truetype(_DEFAULT_FONT, max(7, round(width * 0.032)))
    y = margin
    draw.text((margin, y), _fit(draw, title, title_font, width - 2 * margin), ink, title_font)
    y += round(title_font.size * 1.35)
    draw.text(
        (margin, y), _fit(draw, subtitle, subtitle_font, width - 2 * margin), muted, subtitle_font
    )


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """Cut ``text`` (chat names can be long) to ``width`` pixels, ending in '…'."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _passes(
    frequencies: Mapping[str, int], fonts: Mapping[str, str]
) -> list[tuple[str, dict[str, int]]]:
    """(font, words) layout passes, most frequent words first.

    One font: a single pass.  Several: the ranking is cut into bands (top 5,
    next 15, next 40, rest) and each band is laid out font by font, so a
    frequent CJK word is placed while there is still room for it instead of
    after every Latin word.
    """
    ranked = sorted(frequencies.items(), key=lambda item: (-item[1], item[0]))
    if len({fonts[word] for word, _ in ranked}) == 1:
        return [(fonts[ranked[0][0]], dict(ranked))]
    passes = []
    for low, high in _BANDS:
        groups: dict[str, dict[str, int]] = defaultdict(dict)
        for word, count in ranked[low:high]:
            groups[fonts[word]][word] = count
        # Within a band, the group holding the band's most frequent word first.
        passes += sorted(groups.items(), key=lambda item: (-max(item[1].values()), item[0]))
    return passes


def _mask(occupied: np.ndarray) -> np.ndarray:
    """WordCloud mask (255 = keep out) of the drawn words, grown by a few pixels of margin."""
    image = Image.fromarray(np.where(occupied, 255, 0).astype(np.uint8), "L")
    return np.asarray(image.filter(ImageFilter.MaxFilter(5)), dtype=np.uint8)
