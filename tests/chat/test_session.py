"""ChatSession in-process: the real runtime on the local Bot API, hostile lines, buttons.

No plugin is loaded here (an allow-list with nobody on it), so these run in
well under a second each; the plugin's side is in test_chat_cli.py.
"""

from __future__ import annotations

import io
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, ContextTypes
from tgstats.chat.api import MAX_QUEUED
from tgstats.chat.session import MAX_LINE, ChatOptions, ChatSession, EveryMember
from tgstats.errors import TgstatsError
from tgstats.logs import configure_logging
from tgstats.store import open_store

NO_PLUGINS = "settings:\n  hot_reload: false\n  load_unlisted_plugins: false\n"


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[tuple[ChatSession, list[str]]]:
    configure_logging(stream=io.StringIO())  # as `tgstats chat` does: the notices read the log
    config = tmp_path / "plugins.yaml"
    config.write_text(NO_PLUGINS)
    shown: list[str] = []
    chat = ChatSession(
        ChatOptions(
            db_url=f"sqlite:///{tmp_path / 'chat.db'}",
            plugins_config=config,
            out_dir=tmp_path,
            member="Alice",
        ),
        show=shown.append,
    )
    await chat.start()
    yield chat, shown
    await chat.stop()
    configure_logging(stream=sys.stderr)


def test_every_member_is_an_admin_but_none_is_listed() -> None:
    admins = EveryMember()
    assert 12345 in admins and 1 in admins
    assert "12345" not in admins
    assert list(admins) == [] and sorted(admins) == []


async def test_host_commands_answer_through_the_router(session: Any, tmp_path: Path) -> None:
    chat, _ = session
    listed = await chat.say("/plugins")  # the installed plugins, each disabled here
    assert listed[0] == "bot: engagement_scores 0.1.0: disabled", listed
    assert (await chat.say("/reload"))[0].startswith("bot: Reload done in ")
    assert await chat.say("/nosuchcommand") == []  # nobody owns it: no answer, as in a group
    out = await chat.say("/optout")
    assert out[0].startswith("bot: Done: I forgot 4 of your messages")  # /optout too


async def test_hostile_lines_are_refused_with_a_reason(session: Any) -> None:
    chat, _ = session
    with pytest.raises(ValueError, match=f"at most {MAX_LINE} characters, this has 5000"):
        await chat.say("x" * 5000)
    for bad in ("", "   ", "123", "a" * 65, "<script>", "_x"):
        with pytest.raises(ValueError, match="member name"):
            await chat.switch_member(bad)
    assert chat.member == "Alice"
    with pytest.raises(ValueError, match="the bot has shown no buttons"):
        await chat.press(1)
    # Text that only looks like markup or a command is a message like any other.
    assert await chat.say("/plugins@someotherbot") == []
    assert await chat.say("<b>&amp;</b> \u0000 \ud800") == []


def test_the_queue_of_typed_lines_is_bounded(tmp_path: Path) -> None:
    chat = ChatSession(
        ChatOptions(db_url="sqlite://", plugins_config=tmp_path / "none.yaml", out_dir=tmp_path),
        show=lambda _line: None,
    )
    for update_id in range(MAX_QUEUED):
        chat.api._pending.append({"update_id": update_id})
    with pytest.raises(OverflowError, match=f"more than {MAX_QUEUED} updates"):
        chat.api.push({"update_id": MAX_QUEUED})


async def test_members_keep_their_ids_and_messages_are_stored(
    store_url: str, tmp_path: Path
) -> None:
    """On SQLite and PostgreSQL (``--db URL``): the bot's recorder, one row per line."""
    configure_logging(stream=io.StringIO())
    config = tmp_path / "plugins.yaml"
    config.write_text(NO_PLUGINS)
    chat = ChatSession(
        ChatOptions(db_url=store_url, plugins_config=config, out_dir=tmp_path, member="Alice"),
        show=lambda _line: None,
    )
    await chat.start()
    try:
        await chat.say("hello")
        await chat.switch_member("Bob")
        await chat.say("hi Alice")
        await chat.switch_member("Alice")
        await chat.say("hi Bob")
    finally:
        await chat.stop()
        configure_logging(stream=sys.stderr)
    store = open_store(store_url)
    try:
        rows = [(m.user_id, m.text) for m in store.queries.messages(-1001)]
    finally:
        store.close()
    alice, bob = rows[0][0], rows[1][0]
    assert alice != bob
    assert rows == [(alice, "hello"), (bob, "hi Alice"), (alice, "hi Bob")]


async def test_buttons_are_numbered_and_pressing_one_is_a_real_callback_query(
    session: Any,
) -> None:
    chat, shown = session
    application = chat.runtime.application
    pressed: list[CallbackQuery] = []

    async def on_press(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        pressed.append(update.callback_query)
        await update.callback_query.answer("noted")

    # The seam for the buttons work: whatever handles callback queries gets them
    # through the bot's own intake and PTB's dispatch.
    application.add_handler(CallbackQueryHandler(on_press))
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Yes", callback_data="vote:yes")],
            [
                InlineKeyboardButton("No", callback_data="vote:no"),
                InlineKeyboardButton("Docs", url="https://example.org"),
            ],
        ]
    )
    await application.bot.send_message(-1001, "Coffee?", reply_markup=keyboard)
    assert shown[-5:] == [
        "bot: Coffee?",
        "  [1] Yes",
        "  [2] No",
        "  [3] Docs",
        "  (press one with /press N)",
    ]
    assert await chat.press(2) == ["bot (popup): noted"]
    (query,) = pressed
    assert query.data == "vote:no" and query.from_user.first_name == "Alice"
    assert query.message is not None and query.message.chat.id == -1001
    with pytest.raises(ValueError, match="is a link, not a button"):
        await chat.press(3)
    with pytest.raises(ValueError, match="choose 1-3"):
        await chat.press(4)
    assert chat.runtime.intake.rejected == 0


async def test_a_bot_that_cannot_start_is_one_error(tmp_path: Path) -> None:
    config = tmp_path / "plugins.yaml"
    config.write_text(NO_PLUGINS)
    chat = ChatSession(
        ChatOptions(
            db_url=f"sqlite:///{tmp_path / 'missing' / 'dir' / 'chat.db'}",
            plugins_config=config,
            out_dir=tmp_path,
        ),
        show=lambda _line: None,
    )
    with pytest.raises(TgstatsError):
        await chat.start()
