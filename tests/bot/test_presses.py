"""Button presses through the bot's own path (polling -> intake -> lane -> PressHandler):
the host namespace's registration API, permissions, reload swaps, picture/text edits."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
from tgstats.bot.intake import BUSY_TEXT, MAX_PRESSES_PER_CHAT
from tgstats.bot.presses import NOT_ALLOWED, REFUSED
from tgstats.host.callbacks import CallbackCodec
from tgstats.plugins import (
    Button,
    ButtonContext,
    CommandContext,
    NoConfig,
    PhotoReply,
    Plugin,
    TextReply,
    button,
    command,
)

from .conftest import record

CHAT = -100700
ALICE, BOB = 21, 22
PNG_A = b"\x89PNG\r\n\x1a\nA"
PNG_B = b"\x89PNG\r\n\x1a\nB"


class Pages(Plugin[NoConfig]):
    version = "v1"

    @command("pages", "Paged text")
    async def pages(self, ctx: CommandContext) -> TextReply:
        return TextReply("page 1", buttons=[[Button("Next", "page", "2"), Button("Pic", "pic")]])

    @command("chart", "A picture")
    async def chart(self, ctx: CommandContext) -> PhotoReply:
        return PhotoReply(PNG_A, "chart A", buttons=[[Button("B", "pic"), Button("Text", "page")]])

    @button("page")
    async def page(self, ctx: ButtonContext) -> TextReply:
        n = ctx.payload or "?"
        return TextReply(f"{self.version} page {n}", buttons=[[Button("Next", "page", "3")]])

    @button("pic")
    def pic(self, ctx: ButtonContext) -> PhotoReply:
        return PhotoReply(PNG_B, "chart B", buttons=[[Button("B", "pic")]])


class PagesV2(Pages):
    version = "v2"


class NoButtons(Plugin[NoConfig]):
    @command("pages", "Paged text, no buttons any more")
    async def pages(self, ctx: CommandContext) -> TextReply:
        return TextReply("plain")


@pytest.fixture
def buttons(harness: Any) -> Any:
    harness.handlers.codec = CallbackCodec(secrets.token_bytes(32))
    return harness


async def press(harness: Any, sent: Any, user_id: int, label: str) -> Any:
    query_id = harness.api.press(sent, user_id, label)
    return await harness.api.wait_until(
        lambda: harness.api.answer_for(query_id), 10, f"an answer to {label!r}"
    )


async def test_host_buttons_register_by_name_and_check_the_presser(buttons: Any) -> None:
    seen: list[ButtonContext] = []

    async def menu(ctx: ButtonContext) -> TextReply:
        seen.append(ctx)
        return TextReply(f"menu {ctx.payload}", buttons=[[Button("Back", "menu", "1")]])

    async def only_alice(update: Any) -> bool:
        return bool(update.callback_query.from_user.id == ALICE)

    buttons.handlers.add_host_button("menu", menu, allowed=only_alice)
    markup = buttons.handlers.host_markup([[Button("Open", "menu", "2")]], CHAT)
    assert markup.inline_keyboard[0][0].callback_data.startswith("|menu|2|")
    message = await buttons.application.bot.send_message(CHAT, "settings", reply_markup=markup)
    sent = buttons.api.message_now(CHAT, message.message_id)

    refused = await press(buttons, sent, BOB, "Open")
    assert refused.text == NOT_ALLOWED
    assert buttons.api.edits == [] and seen == []

    done = await press(buttons, sent, ALICE, "Open")
    assert done.text == ""
    assert buttons.api.message_now(CHAT, message.message_id).text == "menu 2"
    (ctx,) = seen
    assert (ctx.button, ctx.payload, ctx.chat_id, ctx.user_id, ctx.message_id) == (
        "menu",
        "2",
        CHAT,
        ALICE,
        message.message_id,
    )
    # Host buttons survive plugin swaps (they live beside the plugins' in each table).
    buttons.handlers.install(record("pages", Pages, buttons.store))
    assert ("", "menu") in buttons.handlers.table.buttons


async def test_a_reload_swaps_the_buttons_with_the_commands(buttons: Any) -> None:
    buttons.handlers.install(record("pages", Pages, buttons.store))
    sent = await buttons.reply_to(CHAT, ALICE, "/pages")
    assert sent.button_data("Next").startswith("pages|page|2|")
    await press(buttons, sent, BOB, "Next")
    assert buttons.api.message_now(CHAT, sent.message_id).text == "v1 page 2"

    buttons.handlers.install(record("pages", PagesV2, buttons.store))
    now = buttons.api.message_now(CHAT, sent.message_id)
    await press(buttons, now, BOB, "Next")
    assert buttons.api.message_now(CHAT, sent.message_id).text == "v2 page 3"

    buttons.handlers.install(record("pages", NoButtons, buttons.store))  # handler gone
    edits = len(buttons.api.edits)
    answer = await press(buttons, buttons.api.message_now(CHAT, sent.message_id), BOB, "Next")
    assert answer.text == REFUSED and len(buttons.api.edits) == edits

    buttons.handlers.remove("pages")  # plugin gone
    answer = await press(buttons, buttons.api.message_now(CHAT, sent.message_id), BOB, "Next")
    assert answer.text == REFUSED and len(buttons.api.edits) == edits


async def test_pictures_are_replaced_by_pictures_and_text_by_text(buttons: Any) -> None:
    buttons.handlers.install(record("pages", Pages, buttons.store))
    chart = await buttons.reply_to(CHAT, ALICE, "/chart")
    assert chart.method == "sendPhoto" and chart.photo == PNG_A
    # A text answer under a picture: shown as the callback answer, the picture stays.
    answer = await press(buttons, chart, ALICE, "Text")
    assert answer.text == "v1 page ?"
    assert buttons.api.edits == []
    assert buttons.api.message_now(CHAT, chart.message_id).photo == PNG_A

    await press(buttons, chart, ALICE, "B")
    now = buttons.api.message_now(CHAT, chart.message_id)
    assert (now.photo, now.caption) == (PNG_B, "chart B")
    assert [e.method for e in buttons.api.edits] == ["editMessageMedia"]
    assert [[b["text"] for b in row] for row in now.buttons] == [["B"]]

    # A picture answer under text: sent as a new picture in the same chat.
    text = await buttons.reply_to(CHAT, ALICE, "/pages")
    before = len(buttons.api.sent_to(CHAT))
    await press(buttons, text, ALICE, "Pic")
    new = buttons.api.sent_to(CHAT)[before:]
    assert [m.method for m in new] == ["sendPhoto"] and new[0].photo == PNG_B
    assert new[0].reply_to_message_id == text.message_id


async def test_a_press_is_allowed_exactly_when_the_plugins_command_is(buttons: Any) -> None:
    closed: set[int] = set()

    async def permits(plugin: str, update: Any) -> bool:
        return not (plugin == "pages" and update.effective_chat.id in closed)

    buttons.handlers._permits = permits  # what per-chat settings plug in
    buttons.handlers.install(record("pages", Pages, buttons.store))
    sent = await buttons.reply_to(CHAT, ALICE, "/pages")
    closed.add(CHAT)
    answer = await press(buttons, sent, BOB, "Next")
    assert answer.text == NOT_ALLOWED
    assert buttons.api.edits == []
    before = len(buttons.api.sent_to(CHAT))
    await buttons.send(CHAT, ALICE, "/pages")
    await buttons.settle()
    assert len(buttons.api.sent_to(CHAT)) == before  # the command is closed there too
    closed.clear()
    assert (await press(buttons, sent, BOB, "Next")).text == ""
    assert buttons.api.message_now(CHAT, sent.message_id).text == "v1 page 2"


class Slow(Plugin[NoConfig]):
    calls = 0

    @command("slow", "Slow buttons")
    async def slow(self, ctx: CommandContext) -> TextReply:
        return TextReply("slow 0", buttons=[[Button("Again", "again")]])

    @button("again")
    async def again(self, ctx: ButtonContext) -> TextReply:
        type(self).calls += 1
        await asyncio.sleep(0.2)
        return TextReply(f"slow {type(self).calls}", buttons=[[Button("Again", "again")]])


async def test_a_burst_of_presses_in_one_chat_is_bounded(buttons: Any) -> None:
    buttons.handlers.install(record("slow", Slow, buttons.store))
    sent = await buttons.reply_to(CHAT, ALICE, "/slow")
    data = sent.button_data("Again")
    ids = [buttons.api.callback_query(sent, BOB, data) for _ in range(10)]
    buttons.api.inject(*ids)  # one page of ten taps
    query_ids = [u["callback_query"]["id"] for u in ids]
    await buttons.api.wait_until(
        lambda: all(buttons.api.answer_for(q) for q in query_ids), 10, "every tap answered"
    )
    answers = [buttons.api.answer_for(q) for q in query_ids]
    assert [a.text for a in answers].count(BUSY_TEXT) == 10 - MAX_PRESSES_PER_CHAT
    assert Slow.calls == MAX_PRESSES_PER_CHAT
    await buttons.settle()  # and every tap confirmed
    assert buttons.api.message_now(CHAT, sent.message_id).text == f"slow {MAX_PRESSES_PER_CHAT}"
