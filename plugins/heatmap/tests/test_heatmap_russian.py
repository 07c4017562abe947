"""/heatmap for a Russian-speaking chat: caption, picture texts, buttons and plurals."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image
from tgstats.plugins import PhotoReply, TextReply
from tgstats.testing import fill_store, make_chat, make_message, make_user, speaking
from tgstats_heatmap.plugin import weekday_names

ALICE = make_user(1, "Алиса", username="alice")


@pytest.fixture
def chat():
    return make_chat(-100700, "Совы")


@pytest.fixture
def history(store, chat):
    # now (the fixture) is 2026-11-01 12:00 UTC, a Sunday; 21 messages on Saturday 10:00.
    fill_store(
        store,
        [make_message(chat, ALICE, "привет", date="2026-10-31T10:00:00Z") for _ in range(21)]
        + [make_message(chat, ALICE, "пока", date="2026-10-30T08:00:00Z") for _ in range(3)],
    )


def labels(reply):
    return [[b.label for b in row] for row in reply.buttons]


async def test_russian_caption_buttons_and_press(make_plugin, command_reply, press, history):
    plugin = make_plugin()
    reply = await command_reply(plugin, "7", language="ru")
    assert isinstance(reply, PhotoReply)
    assert reply.caption == "Самый активный час (обведён): сб 10:00–11:00 (21 сообщение, UTC)"
    assert labels(reply) == [["• 7 дней", "30 дней", "1 год", "Всё"], ["Я", "• Все"]]
    if os.environ.get("TGSTATS_SAVE_PICTURES"):  # to look at it: render, downscale, view
        Image.open(io.BytesIO(reply.png)).save(os.environ["TGSTATS_SAVE_PICTURES"])

    everything = await press(plugin, reply, "Всё", language="ru")
    assert isinstance(everything, PhotoReply)
    assert labels(everything)[0] == ["7 дней", "30 дней", "1 год", "• Всё"]
    # The same press in English is English: the language is the presser's, not the message's.
    english = await press(plugin, reply, "Всё", language="en")
    assert labels(english)[0] == ["7 days", "30 days", "1 year", "• All"]


async def test_russian_subtitle_and_text_replies(make_plugin, make_context, command_reply, history):
    plugin = make_plugin()
    with speaking(plugin, "ru"):
        data = plugin.compute(make_context("all", language="ru"))
        assert data.subtitle == "Всё время · 24 сообщения · время UTC"
        assert weekday_names() == ["пн", "вт", "ср", "чт", "пт", "сб", "вс"]
    assert await command_reply(plugin, "1", language="ru") == TextReply(
        "За последний день нет сообщений, поэтому тепловую карту не построить."
    )
    assert await command_reply(plugin, "banana", language="ru") == TextReply(
        "Использование: /heatmap [N дней | all] [@участник]"
    )
    assert await command_reply(plugin, "all", "@nobody", language="ru") == TextReply(
        "У меня нет сообщений от @nobody в этом чате."
    )


async def test_the_russian_picture_differs_from_the_english_one(
    make_plugin, command_reply, history
):
    plugin = make_plugin(width=4, height=6, dpi=60)
    ru = await command_reply(plugin, "all", language="ru")
    en = await command_reply(plugin, "all", language="en")
    assert isinstance(ru, PhotoReply) and isinstance(en, PhotoReply)
    top = (0, 0, 240, 120)  # the title, subtitle and weekday row
    ru_top = Image.open(io.BytesIO(ru.png)).convert("L").crop(top)
    en_top = Image.open(io.BytesIO(en.png)).convert("L").crop(top)
    assert ru_top.tobytes() != en_top.tobytes()
