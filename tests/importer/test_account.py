"""Full-account exports: every chat imported separately, --chat-id selects one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tgstats.importer import ExportFormatError, import_export
from tgstats.store import Store

MessageBuilder = Callable[..., dict[str, Any]]


def _account(text_message: MessageBuilder) -> dict[str, Any]:
    return {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": 1001, "first_name": "Alice", "phone_number": "+1"},
        "contacts": {"about": "...", "list": [{"first_name": "Bob"}]},
        "chats": {
            "about": "This page lists all chats from this export.",
            "list": [
                {
                    "name": "Book club",
                    "type": "private_group",
                    "id": 4001,
                    "messages": [
                        text_message(1, 1001, "first book?", 1714557600),
                        text_message(2, 1002, ["Dune, ", {"type": "italic", "text": "obviously"}],
                                     1714557660, reply_to_message_id=1),
                    ],
                },
                {"name": "Quiet channel", "type": "public_channel", "id": 5001, "messages": []},
                {
                    "name": "Big supergroup",
                    "type": "public_supergroup",
                    "id": 1500000001,
                    "messages": [
                        {"id": 1, "type": "service", "date": "2024-05-01T00:00:00",
                         "date_unixtime": "1714521600", "actor": "Alice", "actor_id": "user1001",
                         "action": "create_channel", "title": "Big", "text": ""},
                        text_message(2, 1001, "hi all", 1714557600),
                        text_message(3, 1003, "hey", 1714557700),
                        text_message(4, 1001, "how are you", 1714557800),
                    ],
                },
                {
                    "name": "Bob",
                    "type": "personal_chat",
                    "id": 1002,
                    "messages": [text_message(7, 1002, "private hello", 1714557900)],
                },
            ],
        },
        "left_chats": {"about": "...", "list": []},
    }  # fmt: skip


def test_each_chat_is_imported_under_its_bot_api_id(
    store: Store, write_export: Callable[..., Path], text_message: MessageBuilder
) -> None:
    path = write_export(_account(text_message))

    report = import_export(path, store)

    got = [(c.chat_id, c.title, c.messages, c.added) for c in report.chats]
    assert got == [
        (-4001, "Book club", 2, 2),  # basic group: -<id>
        (-1001500000001, "Big supergroup", 3, 3),  # supergroup: -100<id>
    ]
    assert report.skipped_chats == 1  # the private chat with Bob: only with --chat-id
    assert store.queries.count_messages(1002) == 0
    assert [m.text for m in store.queries.messages(-4001)] == ["first book?", "Dune, obviously"]
    assert [m.reply_to_message_id for m in store.queries.messages(-4001)] == [None, 1]
    assert store.queries.count_messages(-1001500000001) == 3
    assert store.queries.chat(-4001).type == "group"  # type: ignore[union-attr]
    assert store.queries.chat(-1001500000001).type == "supergroup"  # type: ignore[union-attr]


@pytest.mark.parametrize("wanted", [1500000001, -1001500000001])
def test_chat_id_selects_one_chat(
    store: Store, write_export: Callable[..., Path], text_message: MessageBuilder, wanted: int
) -> None:
    path = write_export(_account(text_message))

    report = import_export(path, store, chat_id=wanted)

    assert [c.chat_id for c in report.chats] == [-1001500000001]
    assert report.skipped_chats == 2  # chats without messages are not counted
    assert store.queries.count_messages(-1001500000001) == 3
    assert store.queries.count_messages(-4001) == 0


def test_unknown_chat_id_is_an_error(
    store: Store, write_export: Callable[..., Path], text_message: MessageBuilder
) -> None:
    path = write_export(_account(text_message))

    with pytest.raises(ExportFormatError, match="no chat with id 777"):
        import_export(path, store, chat_id=777)


def test_reimporting_an_account_adds_nothing(
    store: Store, write_export: Callable[..., Path], text_message: MessageBuilder
) -> None:
    path = write_export(_account(text_message))
    import_export(path, store)

    again = import_export(path, store)

    assert (again.messages, again.added) == (5, 0)


def test_a_private_chat_is_imported_only_when_asked_for(
    store: Store, write_export: Callable[..., Path], text_message: MessageBuilder
) -> None:
    path = write_export(_account(text_message))

    report = import_export(path, store, chat_id=1002)

    assert [(c.chat_id, c.title, c.added) for c in report.chats] == [(1002, "Bob", 1)]
    assert store.queries.chat(1002).type == "private"  # type: ignore[union-attr]
