"""/wordcloud through invoke_command with a real store, and the PNG it draws."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from PIL import Image
from tgstats.plugins import ConfigError, PhotoReply, TextReply
from tgstats.testing import fill_store, make_chat, make_message, make_user
from tgstats_word_cloud.fonts import BUNDLED_FONT
from tgstats_word_cloud.plugin import Cloud
from tgstats_word_cloud.render import display_form, render_cloud

ALICE = make_user(1, "Alice", username="alice")
BOB = make_user(2, "Борис", username="boris")
EVENING = "2026-10-30T18:00:00Z"
SUNSET = "2026-10-31T20:00:00Z"
SERIF = str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSerif.ttf")


@pytest.fixture
def chat():
    """The group the commands run in (overrides tgstats' default chat)."""
    return make_chat(-100700, "Polyglots")


@pytest.fixture
def chat_with_words(store, chat):
    fill_store(
        store,
        [
            make_message(
                chat, ALICE, "Pizza tonight? pizza!! https://pizza.example.com", date=EVENING
            ),
            make_message(chat, ALICE, "@boris pizza or sushi", date="2026-10-30T18:01:00Z"),
            make_message(chat, BOB, "Суши лучше, суши 😀", date="2026-10-30T18:02:00Z"),
            make_message(chat, BOB, "шалом שלום مرحبا", date="2026-10-31T09:00:00Z"),
            make_message(chat, ALICE, "ancient history", date="2026-01-01T09:00:00Z"),
            make_message(chat, ALICE, media="photo", caption="sunset photo", date=SUNSET),
        ],
    )
    return chat


async def test_words_of_the_period_and_of_one_member(make_plugin, make_context, chat_with_words):
    plugin = make_plugin()
    cloud = plugin.compute(make_context())  # last 30 days before 2026-11-01
    assert isinstance(cloud, Cloud)
    expected = {
        "pizza": 3,
        "суши": 2,
        "sushi": 1,
        "tonight": 1,
        "шалом": 1,
        display_form("שלום"): 1,
        display_form("مرحبا"): 1,
        "sunset": 1,
        "photo": 1,
    }
    assert cloud.frequencies == expected
    assert set(cloud.fonts.values()) == {str(BUNDLED_FONT)}
    assert cloud.caption == "Polyglots — last 30 days — 12 words counted"
    assert "ancient" in plugin.compute(make_context("all")).frequencies
    by_boris = plugin.compute(make_context("all", "@boris"))
    assert set(by_boris.frequencies) == {
        "суши",
        "шалом",
        display_form("שלום"),
        display_form("مرحبا"),
    }
    assert by_boris.caption.startswith("Polyglots — @boris — all time")


async def test_config_changes_the_words(make_plugin, make_context, chat_with_words):
    plugin = make_plugin(
        emoji="words", stop_words=["pizza"], min_word_length=6, max_words=3, font_path=SERIF
    )
    cloud = plugin.compute(make_context())
    # Ties are broken alphabetically, so max_words=3 keeps exactly these.
    assert cloud.frequencies == {"sunset": 1, "tonight": 1, "😀": 1}
    # The serif font has Latin and Cyrillic but no emoji: each word gets a covering font.
    assert cloud.fonts == {"sunset": SERIF, "tonight": SERIF, "😀": str(BUNDLED_FONT)}


async def test_reply_is_a_png_of_the_configured_size(make_plugin, command_reply, chat_with_words):
    reply = await command_reply(make_plugin(width=500, height=260, background="#101020"), "all")
    assert isinstance(reply, PhotoReply)
    image = Image.open(io.BytesIO(reply.png))
    assert (image.format, image.size) == ("PNG", (500, 260))
    pixels = np.asarray(image.convert("RGB"))
    assert (pixels[0, 0] == (0x10, 0x10, 0x20)).all()
    assert (pixels != (0x10, 0x10, 0x20)).any(axis=2).mean() > 0.01  # words were drawn


async def test_text_replies(make_plugin, command_reply, chat_with_words):
    plugin = make_plugin()
    assert await command_reply(plugin, "banana") == TextReply(
        "Usage: /wordcloud [N days | all] [@user]"
    )
    assert await command_reply(plugin, "@ghost") == TextReply(
        "I have no messages from @ghost in this chat."
    )
    assert await command_reply(plugin, "1", "@boris") == TextReply(
        "No words from @boris in the last day to draw a word cloud from."
    )
    assert await command_reply(plugin, chat_id=-5) == TextReply(
        "No words in the last 30 days to draw a word cloud from."
    )


def test_render_groups_words_by_font_on_one_canvas():
    frequencies = {"alpha": 30, "beta": 20, "gamma": 10, "delta": 5}
    fonts = {"alpha": str(BUNDLED_FONT), "beta": SERIF, "gamma": str(BUNDLED_FONT), "delta": SERIF}
    png = render_cloud(
        frequencies, fonts, width=400, height=200, background="white", colormap="viridis"
    )
    image = Image.open(io.BytesIO(png))
    assert (image.format, image.size) == ("PNG", (400, 200))
    single = render_cloud(
        {"alpha": 30, "gamma": 10},
        {"alpha": str(BUNDLED_FONT), "gamma": str(BUNDLED_FONT)},
        width=400,
        height=200,
        background="white",
        colormap="viridis",
    )
    ink = lambda data: (np.asarray(Image.open(io.BytesIO(data)).convert("L")) < 250).sum()  # noqa: E731
    assert ink(png) > ink(single)  # the serif group was drawn too
    with pytest.raises(ValueError, match="at least one word"):
        render_cloud({}, {}, width=10, height=10, background="white", colormap="viridis")


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"stop_word_languages": ["en", "klingon"]}, "klingon"),
        ({"font_path": "/nonexistent/font.ttf"}, "/nonexistent/font.ttf"),
        ({"emoji": "sometimes"}, "emoji"),
        ({"colormap": "nope"}, "nope"),
        ({"background": "blurple"}, "blurple"),
        ({"max_words": 0}, "max_words"),
    ],
)
def test_bad_config_is_refused_with_the_key(make_plugin, overrides, needle):
    with pytest.raises(ConfigError, match=needle):
        make_plugin(**overrides)


async def test_replies_in_russian(make_plugin, command_reply, chat_with_words):
    plugin = make_plugin()
    cloud = await command_reply(plugin, "all", language="ru")
    assert isinstance(cloud, PhotoReply)
    assert " — всё время — всего " in cloud.caption
    assert cloud.caption.endswith(("слово", "слова", "слов"))
    assert [b.label for b in cloud.buttons[1]] == ["Я", "• Все"]
    assert await command_reply(plugin, "1", "@boris", language="ru") == TextReply(
        "От @boris за последний день нет слов для облака слов."
    )
    assert await command_reply(plugin, chat_id=-5, language="ru") == TextReply(
        "За последние 30 дней нет слов для облака слов."
    )


@pytest.mark.parametrize(
    "args",
    [
        ("9" * 5000,),  # past Python's 4,300-digit int() limit: once an internal error
        ("9" * 60,),
        ("1",) * 2000,
        ("x" * 4000,),
    ],
)
async def test_hostile_period_arguments_get_a_usage_reply(make_plugin, command_reply, args):
    reply = await command_reply(make_plugin(), *args)
    assert isinstance(reply, TextReply)
    assert reply.text.endswith("Usage: /wordcloud [N days | all] [@user]")
    assert len(reply.text) < 200


async def test_detected_languages_are_kept_a_while_per_period(
    make_plugin, make_context, chat_with_words, monkeypatch
):
    import tgstats_word_cloud.plugin as module

    calls = []
    detect = module.detect_languages
    monkeypatch.setattr(module, "detect_languages", lambda texts: calls.append(1) or detect(texts))
    plugin = make_plugin()
    first = plugin.compute(make_context())
    again = plugin.compute(make_context())
    assert (again.frequencies, again.languages) == (first.frequencies, first.languages)
    assert len(calls) == 1  # the second answer reused the first one's languages
    plugin.compute(make_context("all"))
    plugin.compute(make_context("all", "@boris"))
    assert len(calls) == 3  # another period, another member: detected for each
    monkeypatch.setattr(module, "LANGUAGES_KEPT", 0)
    assert plugin.compute(make_context()).languages == first.languages
    assert len(calls) == 4  # expired: detected again
