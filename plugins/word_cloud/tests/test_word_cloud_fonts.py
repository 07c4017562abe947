"""Font finding: real font files on this machine, never boxes for missing glyphs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import matplotlib
import pytest
from matplotlib import font_manager
from structlog.testing import capture_logs
from tgstats_word_cloud.fonts import BUNDLED_FONT, FontFinder, font_codepoints, script_of
from tgstats_word_cloud.plugin import pick_words
from tgstats_word_cloud.render import display_form

MPL_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@pytest.mark.parametrize(
    ("word", "script"),
    [
        ("hello", "LATIN"),
        ("привет", "CYRILLIC"),
        ("שלום", "HEBREW"),
        ("مرحبا", "ARABIC"),
        (display_form("مرحبا", pillow_shapes=False), "ARABIC"),  # presentation forms
        ("😀", "SYMBOL"),
    ],
)
def test_bundled_dejavu_covers_common_scripts(word, script):
    # DejaVu Sans ships inside matplotlib, so this holds on a fresh machine too.
    assert script_of(word) == script
    assert FontFinder(system_fonts=[]).font_for(word) == str(BUNDLED_FONT)


def test_configured_font_path_wins():
    serif = str(MPL_FONTS / "DejaVuSerif.ttf")  # Latin and Cyrillic, no Arabic
    finder = FontFinder(serif, system_fonts=[])
    assert finder.font_for("hello") == serif
    assert finder.font_for("привет") == serif
    # Not covered by the configured font: falls back to the bundled one.
    assert finder.font_for("مرحبا") == str(BUNDLED_FONT)


def test_system_fonts_are_searched_for_uncovered_letters():
    stix = str(MPL_FONTS / "STIXGeneral.ttf")
    word = "aᶁb"  # LATIN SMALL LETTER D WITH PALATAL HOOK: in STIX, not in DejaVu Sans
    assert ord("ᶁ") not in font_codepoints(BUNDLED_FONT)
    assert FontFinder(system_fonts=[str(MPL_FONTS / "DejaVuSerif.ttf"), stix]).font_for(word) == (
        stix
    )
    assert FontFinder(system_fonts=[]).font_for(word) is None


def test_cjk_uses_an_installed_cjk_font_or_none():
    needed = {ord("你"), ord("好")}
    installed = [p for p in font_manager.findSystemFonts() if needed <= font_codepoints(p)]
    found = FontFinder().font_for("你好")
    if installed:  # e.g. fonts-noto-cjk
        assert found in installed
    else:
        assert found is None


def test_words_without_a_font_are_left_out_with_a_warning():
    counts = Counter({"你好": 9, "hello": 5, "привет": 4, "世界": 2})
    with capture_logs() as logs:
        frequencies, fonts = pick_words(counts, FontFinder(system_fonts=[]), max_words=10)
    assert frequencies == {"hello": 5, "привет": 4}
    assert set(fonts.values()) == {str(BUNDLED_FONT)}
    (warning,) = [e for e in logs if e["event"] == "wordcloud_words_without_font"]
    assert warning["log_level"] == "warning"
    assert (warning["words"], warning["scripts"], warning["examples"]) == (2, "CJK", "你好 世界")


def test_max_words_is_filled_past_skipped_words():
    counts = Counter({"你好": 9, "one": 5, "two": 4, "three": 3})
    frequencies, _ = pick_words(counts, FontFinder(system_fonts=[]), max_words=2)
    assert frequencies == {"one": 5, "two": 4}


def test_unreadable_font_covers_nothing(tmp_path):
    fake = tmp_path / "broken.ttf"
    fake.write_bytes(b"not a font")
    assert font_codepoints(fake) == frozenset()
    assert font_codepoints(tmp_path / "missing.ttf") == frozenset()


def test_rtl_words_are_shaped_and_reordered_when_pillow_cannot():
    assert display_form("שלום", pillow_shapes=False) == "םולש"
    assert display_form("مرحبا", pillow_shapes=False) == "\ufe8e\ufe92\ufea3\ufeae\ufee3"
    assert display_form("مرحبا", pillow_shapes=True) == "مرحبا"  # libraqm shapes it itself
    assert display_form("hello", pillow_shapes=False) == "hello"
