"""Find an installed font that really has the glyphs of a word.

A font without a glyph draws a box ("tofu"), so every word is checked against
the character map of the candidate fonts (fontTools checks the font has
outlines, FreeType reads the map):

1. the operator's ``font_path`` (config), if set;
2. DejaVu Sans shipped inside matplotlib (Latin, Cyrillic, Greek, Arabic,
   Hebrew, some emoji) - present wherever the plugin is installed;
3. the system fonts (``matplotlib.font_manager.findSystemFonts``), searched
   once per script and remembered, regular sans faces first.

A word no candidate covers gets ``None``: the caller leaves it out (and logs
it), it is never drawn as boxes.
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import matplotlib
from fontTools.ttLib import TTCollection, TTFont, TTLibError
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from tgstats.plugins import get_logger

__all__ = ["BUNDLED_FONT", "FontFinder", "font_codepoints", "script_of"]

log = get_logger(__name__)

BUNDLED_FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"

# Format/joiner characters that fonts need not contain to render a word.
_IGNORABLE = frozenset({0x200C, 0x200D, 0xFE0E, 0xFE0F, 0x200E, 0x200F})
# Faces to avoid when a regular one covers the word just as well.
_STYLE_WORDS = ("bold", "italic", "oblique", "light", "thin", "black", "mono", "condensed")


@functools.lru_cache(maxsize=256)
def _codepoints_cached(path: str, mtime_ns: int) -> frozenset[int]:
    del mtime_ns  # part of the cache key only: a replaced font file is re-read
    try:
        # Our own file handle: fontTools leaves its own open when parsing fails.
        # fontTools reads only the table directory here (cheap, even for a
        # 20 MB CJK collection) ...
        with open(path, "rb") as handle:
            if path.lower().endswith((".ttc", ".otc")):
                font = TTCollection(handle, lazy=True).fonts[0]
            else:
                font = TTFont(handle, lazy=True, fontNumber=0)
            if not _has_outlines(font):
                return frozenset()
        # ... and FreeType the character map: 10x faster than decompiling the
        # cmap table in Python for fonts with tens of thousands of glyphs.
        return frozenset(FT2Font(path).get_charmap())
    except (OSError, TTLibError, AssertionError, KeyError, ValueError, RuntimeError) as error:
        log.debug("font_unreadable", path=path, error=str(error))
        return frozenset()


def _has_outlines(font: TTFont) -> bool:
    # Colour bitmap-only fonts (Noto Color Emoji) cannot be drawn at
    # arbitrary sizes by FreeType/Pillow: treat them as covering nothing.
    return "glyf" in font or "CFF " in font or "CFF2" in font


def font_codepoints(path: str | Path) -> frozenset[int]:
    """Code points a font file maps (first face of a collection); empty if unreadable."""
    path = str(path)
    try:
        mtime_ns = Path(path).stat().st_mtime_ns
    except OSError:
        return frozenset()
    return _codepoints_cached(path, mtime_ns)


def script_of(text: str) -> str:
    """Coarse script of a word from its first letter's Unicode name: LATIN, CJK, ARABIC, ..."""
    for char in text:
        if ord(char) in _IGNORABLE:
            continue
        name = unicodedata.name(char, "")
        if not name:
            continue
        first = name.split(" ", 1)[0]
        # Japanese kana and Korean hangul usually come in the same fonts as Han.
        if first in {"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "IDEOGRAPHIC"}:
            return "CJK"
        if unicodedata.category(char) == "So":
            return "SYMBOL"  # emoji and pictographs
        return first
    return "UNKNOWN"


def _needed(text: str) -> set[int]:
    return {ord(c) for c in text if ord(c) not in _IGNORABLE and not c.isspace()}


def _preference(path: str) -> tuple[int, int, str]:
    name = Path(path).name.lower()
    styled = sum(word in name for word in _STYLE_WORDS)
    # Sans before serif; then shorter (more basic) names; then by name for determinism.
    return (styled, 0 if "sans" in name else 1, name)


class FontFinder:
    """Picks a covering font per word; thread-safe, system search cached per script."""

    def __init__(
        self, font_path: str | None = None, system_fonts: Iterable[str] | None = None
    ) -> None:
        self._preferred = [p for p in (font_path, str(BUNDLED_FONT)) if p]
        self._system = system_fonts
        self._by_script: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def font_for(self, text: str) -> str | None:
        """Path of a font covering every character of ``text``, or None."""
        needed = _needed(text)
        if not needed:
            return None
        for path in self._preferred:
            if needed <= font_codepoints(path):
                return path
        for path in self._script_candidates(script_of(text)):
            if needed <= font_codepoints(path):
                return path
        return None

    def _script_candidates(self, script: str) -> list[str]:
        with self._lock:
            if script not in self._by_script:
                self._by_script[script] = self._search(script)
            return self._by_script[script]

    def _search(self, script: str) -> list[str]:
        """System fonts with at least one letter of ``script``, best first."""
        probe = _SCRIPT_PROBES.get(script)
        fonts = self._system_fonts()
        if probe is None:
            return fonts  # unknown script: let the per-word check decide
        found = [path for path in fonts if probe in font_codepoints(path)]
        log.debug("font_search", script=script, candidates=len(found))
        return found

    def _system_fonts(self) -> list[str]:
        if self._system is None:
            self._system = font_manager.findSystemFonts()
        return sorted(
            (p for p in self._system if p.lower().endswith((".ttf", ".otf", ".ttc", ".otc"))),
            key=_preference,
        )


# One typical code point per script: a font without it is not a candidate.
_SCRIPT_PROBES = {
    "LATIN": ord("a"),
    "CYRILLIC": ord("ж"),
    "GREEK": ord("λ"),
    "ARABIC": ord("ب"),
    "HEBREW": ord("ש"),
    "CJK": ord("的"),
    "DEVANAGARI": ord("क"),
    "THAI": ord("ก"),
    "ARMENIAN": ord("ա"),
    "GEORGIAN": ord("ა"),
    "SYMBOL": 0x1F600,
}
