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
from tgstats.chat.api import MAX_QUEUED, Outgoing, _buttons
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
    # In name order, the first line prefixed: which plugin is first depends on what is installed.
    assert listed[0].startswith("bot: "), listed
    entries = [line.removeprefix("bot:").strip() for line in listed]
    assert "engagement_scores 0.1.0: disabled" in entries, listed
    assert entries == sorted(entries) and all(e.endswith(": disabled") for e in entries), listed
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


async def test_buttons_are_numbered_and_pressing_one_runs_the_real_callback_path(
    tmp_path: Path,
) -> None:
    """The heatmap's period buttons: /press edits the picture in place, as in Telegram."""
    configure_logging(stream=io.StringIO())
    config = tmp_path / "plugins.yaml"
    config.write_text(NO_PLUGINS + "plugins:\n  heatmap_command: {}\n")
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
    try:
        await chat.say("hello")
        out = await chat.say("/heatmap all")
        assert (
            out[0]
            == f"bot: [picture] {tmp_path / 'pictures' / 'heatmap-1.png'}  "
            + (out[0].split("  ", 1)[1])
        )
        assert out[1:] == [
            "  [1] 7 days",
            "  [2] 30 days",
            "  [3] 1 year",
            "  [4] • All",
            "  [5] Me",
            "  [6] • Everyone",
            "  (press one with /press N)",
        ]
        pressed = await chat.press(1)
        assert pressed[0].startswith(
            f"bot (edited): [picture] {tmp_path / 'pictures' / 'heatmap-2.png'}"
        ), pressed
        assert pressed[1] == "  [1] • 7 days"  # the keyboard follows the new period
        first, second = (tmp_path / "pictures" / f"heatmap-{n}.png" for n in (1, 2))
        assert first.read_bytes()[:8] == second.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with pytest.raises(ValueError, match="choose 1-6"):
            await chat.press(7)
        assert chat.runtime is not None and chat.runtime.intake is not None
        assert chat.runtime.intake.rejected == 0
    finally:
        await chat.stop()
        configure_logging(stream=sys.stderr)


def test_links_and_edits_render_as_choices_and_text(tmp_path: Path) -> None:
    chat = ChatSession(
        ChatOptions(db_url="sqlite://", plugins_config=tmp_path / "none.yaml", out_dir=tmp_path),
        show=lambda _line: None,
    )
    markup = {
        "inline_keyboard": [
            [{"text": "Yes", "callback_data": "a"}],
            [{"text": "Docs", "url": "https://example.org"}, "junk"],
        ]
    }
    lines = chat._render(
        Outgoing("edit", -1001, 7, "<pre>a &amp; b\nc</pre>", html=True, buttons=_buttons(markup))
    )
    assert lines == [
        "bot (edited): a & b",
        "     c",
        "  [1] Yes",
        "  [2] Docs",
        "  (press one with /press N)",
    ]
    assert _buttons("not json") == () and _buttons({"inline_keyboard": "x"}) == ()


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
