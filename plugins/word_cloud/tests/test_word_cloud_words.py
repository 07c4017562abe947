"""Which words a cloud shows: detected languages, merged word forms, and how they look."""

from __future__ import annotations

import io
from collections import Counter

import numpy as np
from PIL import Image
from tgstats_word_cloud.fonts import BUNDLED_FONT
from tgstats_word_cloud.forms import merge_forms
from tgstats_word_cloud.languages import SampleCollector, chat_languages, detect_languages
from tgstats_word_cloud.render import _FrequencyColors, render_cloud

ENGLISH = "we are going to the lake on saturday with the whole group"
RUSSIAN = "мы пойдём на озеро в субботу всей нашей большой компанией"
GERMAN = "wir gehen am Samstag mit der ganzen Gruppe zum See hinauf"
SPANISH = "vamos al lago el sábado con todo el grupo de amigos"


def test_every_language_a_few_messages_are_written_in_is_detected() -> None:
    texts = [ENGLISH] * 60 + [RUSSIAN] * 30 + [GERMAN] * 20 + [SPANISH] * 3
    assert detect_languages(texts) == ("en", "ru", "de", "es")


def test_short_messages_and_stray_guesses_add_no_language() -> None:
    # Two Spanish messages among a thousand are below the bar; "ok" says nothing.
    texts = [ENGLISH] * 1000 + [SPANISH] * 2 + ["ok", "+1", "lol"] * 50
    assert detect_languages(texts) == ("en",)
    assert detect_languages(["ok", "да", "ja"]) == ()


def test_a_script_no_message_named_still_gets_its_language() -> None:
    # Only short Russian messages: no guess, but a third of the words are Cyrillic.
    counts = Counter({"trail": 10, "summit": 8, "тропа": 9})
    assert chat_languages([ENGLISH] * 20 + ["да, идём"] * 20, counts) == ("en", "ru")
    # A few Cyrillic words among many English ones stay English only.
    assert chat_languages([ENGLISH] * 20, Counter({"trail": 1000, "тропа": 3})) == ("en",)


def test_forms_merge_under_their_commonest_surface_form() -> None:
    counts = Counter(
        {"скинула": 5, "скинул": 7, "photos": 9, "photo": 4, "beautiful": 3, "beauty": 2}
    )
    merged = merge_forms(counts, ["ru", "en"], keep=10)
    # Never the stem ("beauti", "скинул" happens to be a word and the commonest form).
    assert merged == Counter({"photos": 13, "скинул": 12, "beautiful": 5})


def test_a_language_only_merges_words_of_its_own_script() -> None:
    counts = Counter({"photos": 3, "photo": 2, "фото": 4})
    assert merge_forms(counts, ["ru"], keep=10) == counts  # Russian can't stem Latin words
    assert merge_forms(counts, [], keep=10) == counts


def test_sample_is_bounded_and_spread_over_the_whole_stream() -> None:
    collector = SampleCollector(size=100)
    batches = [[f"{batch}-{i}" for i in range(50)] for batch in range(40)]  # 2,000 texts
    passed = list(collector.batches(batches))
    assert passed == batches  # the counting sees every text
    assert 50 <= len(collector.texts) <= 100
    firsts = {int(text.split("-")[0]) for text in collector.texts}
    assert min(firsts) == 0 and max(firsts) >= 35  # from the start to the end


def test_commoner_words_are_darker() -> None:
    colours = _FrequencyColors("viridis", {"often": 500, "sometimes": 40, "once": 1})

    def lightness(word: str) -> float:
        red, green, blue = (int(c) for c in colours(word)[4:-1].split(","))
        return 0.299 * red + 0.587 * green + 0.114 * blue

    assert lightness("often") < lightness("sometimes") < lightness("once")
    assert lightness("once") < 200  # never as pale as viridis' yellow end


def test_the_title_band_is_above_the_cloud() -> None:
    words = {f"word{i}": 100 - i for i in range(30)}
    fonts = dict.fromkeys(words, str(BUNDLED_FONT))
    size = dict(width=600, height=600, background="white", colormap="viridis")
    titled = Image.open(io.BytesIO(render_cloud(words, fonts, title="Book club", **size)))
    plain = Image.open(io.BytesIO(render_cloud(words, fonts, **size)))
    band = round(600 * (0.045 * 1.35 + 0.032 * 1.6 + 0.05))
    ink = np.asarray(titled.convert("L"))[:band] < 128
    assert ink.any()  # the title is drawn there
    assert titled.size == plain.size == (600, 600)
