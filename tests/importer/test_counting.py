"""Imported history follows the live counting rule: a bot command is stored, not counted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tgstats.importer import import_export
from tgstats.store import Store
from tgstats.testing import make_chat, make_message, make_user

UNIX = 1714564800  # 2024-05-01 12:00 UTC, a Wednesday


def test_imported_commands_are_stored_but_not_counted(
    store: Store, write_export: Callable[..., Path], text_message: Callable[..., dict[str, Any]]
) -> None:
    command = [{"type": "bot_command", "text": "/heatmap"}, {"type": "plain", "text": " 30"}]
    late = [{"type": "plain", "text": "try "}, {"type": "bot_command", "text": "/heatmap"}]
    messages = [
        text_message(1, 1, "hello there", UNIX),
        text_message(2, 1, ["/heatmap", " 30"], UNIX + 60, text_entities=command),
        text_message(3, 2, ["try ", "/heatmap"], UNIX + 120, text_entities=late),
        text_message(4, 2, "/not a command in Telegram's eyes", UNIX + 180),
    ]
    export = {"name": "Counting", "type": "private_supergroup", "id": 555, "messages": messages}
    (chat,) = import_export(write_export(export), store).chats
    chat_id = chat.chat_id
    queries = store.queries
    assert queries.count_messages(chat_id) == 4  # all stored
    assert sorted(queries.texts(chat_id)) == [
        "/not a command in Telegram's eyes",  # no bot_command entity: chat
        "hello there",
        "try /heatmap",
    ]
    grid = queries.counts_by_weekday_hour(chat_id, tz=ZoneInfo("UTC"))
    assert grid[2][12] == 3


def test_an_imported_command_and_the_same_command_recorded_live_count_alike(
    store: Store, write_export: Callable[..., Path], text_message: Callable[..., dict[str, Any]]
) -> None:
    import telegram

    entity = [{"type": "bot_command", "text": "/wordcloud"}]
    path = write_export(
        {
            "name": "Both",
            "type": "private_supergroup",
            "id": 556,
            "messages": [text_message(1, 1, ["/wordcloud"], UNIX, text_entities=entity)],
        }
    )
    (chat,) = import_export(path, store).chats
    live = make_message(
        make_chat(chat.chat_id, "Both"),
        make_user(1, "User 1"),
        "/wordcloud",
        message_id=2,
        entities=[telegram.MessageEntity(telegram.MessageEntity.BOT_COMMAND, 0, 10)],
    )
    store.record_message(live)
    assert store.queries.count_messages(chat.chat_id) == 2
    assert list(store.queries.texts(chat.chat_id)) == []


def test_an_impossible_date_is_refused_with_its_field(
    store: Store, write_export: Callable[..., Path], text_message: Callable[..., dict[str, Any]]
) -> None:
    import pytest
    from tgstats.errors import TgstatsError

    export = {
        "name": "Odd",
        "type": "private_supergroup",
        "id": 557,
        "messages": [text_message(1, 1, "fine", UNIX), text_message(2, 1, "far", 99999999999999)],
    }
    with pytest.raises(TgstatsError) as error:
        import_export(write_export(export), store)
    message = str(error.value)
    assert "'date_unixtime': expected a date between 2013-01-01 and tomorrow" in message
    assert "99999999999999" in message
    assert store.queries.count_messages(-1000000000557) == 0  # the chat's import rolled back
