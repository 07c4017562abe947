"""What the tokeniser keeps and drops in real group-chat text."""

from __future__ import annotations

from collections import Counter

import pytest
from tgstats_word_cloud.tokenize import Tokenizer, load_stop_words

STOP = load_stop_words(["en", "ru"])


def test_noise_is_dropped_and_case_folded():
    text = (
        "Check https://example.com/a?b=1 and www.python.org, t.me/tgstats or mail bob@mail.com! "
        "@alice /start /stats@TgStatsBot 2026 42km COVID19 — PYTHON Python python. #Release"
    )
    assert Tokenizer(stop_words=STOP).tokens(text) == [
        "check",
        "mail",
        "python",
        "python",
        "python",
        "release",
    ]


def test_stop_words_of_configured_languages_and_custom_list():
    text = "The weather is nice and мы сегодня идём гулять в парк, ok?"
    assert Tokenizer(stop_words=STOP).tokens(text) == ["weather", "nice", "идём", "гулять", "парк"]
    custom = load_stop_words(["en"], ["Weather"])
    assert Tokenizer(stop_words=custom).tokens(text) == [
        "nice",
        "сегодня",
        "идём",
        "гулять",
        "парк",
    ]


def test_words_keep_inner_apostrophes_hyphens_and_marks():
    tokenizer = Tokenizer(min_length=2)
    assert tokenizer.tokens("l’homme rock-n-roll кто-нибудь café naïve") == [
        "l'homme",
        "rock-n-roll",
        "кто-нибудь",
        "café",
        "naïve",
    ]
    # Devanagari vowel signs and Arabic harakat are marks, not word breaks.
    assert tokenizer.tokens("नमस्ते दुनिया مَرْحَبًا") == ["नमस्ते", "दुनिया", "مَرْحَبًا"]


def test_min_and_max_length():
    tokenizer = Tokenizer(min_length=4, max_length=10)
    assert tokenizer.tokens("cat kitten caterpillarsss dog") == ["kitten"]


def test_emoji_dropped_or_counted_as_words():
    text = "party🎉🎉 👍🏽 nice 👨‍👩‍👧 🇩🇪 ❤️"
    assert Tokenizer().tokens(text) == ["party", "nice"]
    assert Tokenizer(emoji=True).tokens(text) == [
        "party",
        "🎉",
        "🎉",
        "👍🏽",
        "nice",
        "👨\u200d👩\u200d👧",
        "🇩🇪",
        "❤️",
    ]


def test_count_is_exact_across_chunks():
    # 5000 texts span three internal chunks; words at chunk edges must not merge.
    texts = ["alpha beta", "gamma"] * 2500
    assert Tokenizer().count(iter(texts)) == Counter(alpha=2500, beta=2500, gamma=2500)
    # Batches as the store hands them over give the same counts.
    batches = [texts[:1999], texts[1999:4000], texts[4000:]]
    assert Tokenizer().count_batches(batches) == Counter(alpha=2500, beta=2500, gamma=2500)


def test_count_filters_after_counting():
    texts = ["Hello THE pizza", "pizza, PIZZA!", "https://x.com/pizza @pizza 123 pizza"]
    assert Tokenizer(stop_words=STOP).count(texts) == Counter(pizza=4)


def test_keep_words_override_the_lists():
    assert Tokenizer(stop_words=STOP).tokens("hello world") == []
    kept = load_stop_words(["en"], keep=["World"])
    assert Tokenizer(stop_words=kept).tokens("hello world") == ["world"]


def test_unknown_stop_word_language():
    with pytest.raises(ValueError, match="'xx'"):
        load_stop_words(["en", "xx"])
