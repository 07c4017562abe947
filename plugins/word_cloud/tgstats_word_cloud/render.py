"""Lay out and draw the word cloud with the ``wordcloud`` library, one font per script.

``wordcloud.WordCloud`` draws every word with a single font.  A chat that
mixes scripts needs several (DejaVu has no CJK; CJK fonts have no Arabic),
so words are grouped by the font that covers them and laid out group by
group: the biggest group first, then each further group into the space the
earlier ones left (passed to WordCloud as a mask), with font sizes scaled to
the first group's so that frequencies stay comparable across groups.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Mapping

import arabic_reshaper
import numpy as np
from bidi import get_display
from PIL import Image, ImageColor, ImageFilter, features
from wordcloud import WordCloud

__all__ = ["display_form", "is_rtl", "render_cloud"]

# Pillow built with libraqm shapes and reorders right-to-left text itself;
# shaping it beforehand would reverse it twice.
_PILLOW_SHAPES_TEXT = bool(features.check("raqm"))


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
    relative_scaling: float = 0.5,
    prefer_horizontal: float = 0.9,
    seed: int = 0,
) -> bytes:
    """PNG of ``width`` x ``height`` pixels; ``fonts`` maps every word to its font file."""
    if not frequencies:
        raise ValueError("render_cloud needs at least one word")
    groups: dict[str, dict[str, int]] = defaultdict(dict)
    for word, count in frequencies.items():
        groups[fonts[word]][word] = count
    # Heaviest group first: it gets the free canvas and sets the scale.
    ordered = sorted(groups.items(), key=lambda item: (-sum(item[1].values()), item[0]))

    bg = np.array(ImageColor.getrgb(background)[:3], dtype=np.uint8)
    canvas = np.empty((height, width, 3), dtype=np.uint8)
    canvas[:] = bg
    occupied = np.zeros((height, width), dtype=bool)
    top_count = max(frequencies.values())
    top_size: int | None = None

    for font_path, words in ordered:
        cloud = WordCloud(
            font_path=font_path,
            width=width,
            height=height,
            background_color=background,
            colormap=colormap,
            relative_scaling=relative_scaling,
            prefer_horizontal=prefer_horizontal,
            max_words=len(words),
            random_state=seed,
            mask=_mask(occupied) if occupied.any() else None,
            collocations=False,
        )
        max_size = None
        if top_size is not None:
            share = max(words.values()) / top_count
            max_size = max(8, round(top_size * (relative_scaling * share + 1 - relative_scaling)))
        cloud.generate_from_frequencies(words, max_font_size=max_size)
        if not cloud.layout_:
            continue
        if top_size is None:
            top_size = cloud.layout_[0][1]
        drawn = np.asarray(cloud.to_image().convert("RGB"), dtype=np.uint8)
        ink = (drawn != bg).any(axis=2) & ~occupied
        canvas[ink] = drawn[ink]
        occupied |= ink

    buffer = io.BytesIO()
    Image.fromarray(canvas, "RGB").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _mask(occupied: np.ndarray) -> np.ndarray:
    """WordCloud mask (255 = keep out) of the drawn words, grown by a few pixels of margin."""
    image = Image.fromarray(np.where(occupied, 255, 0).astype(np.uint8), "L")
    return np.asarray(image.filter(ImageFilter.MaxFilter(5)), dtype=np.uint8)
