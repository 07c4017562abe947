"""Malformed exports: the error names the position and nothing of that chat is stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tgstats.importer import ExportFormatError, import_export
from tgstats.importer.convert import bot_api_chat_id
from tgstats.store import Store

FIXTURE_CHAT_ID = -1001987654321
MessageBuilder = Callable[..., dict[str, Any]]


def _single(messages: list[Any]) -> dict[str, Any]:
    return {"name": "G", "type": "private_supergroup", "id": 77, "messages": messages}


def test_truncated_file(store: Store, single_chat: Path, write_export: Callable[..., Path]) -> None:
    text = single_chat.read_text(encoding="utf-8")
    cut = text.index('"id": 14')  # in the middle of message #13 (id 14)
    path = write_export(text[:cut])

    with pytest.raises(ExportFormatError) as caught:
        import_export(path, store)

    message = str(caught.value)
    assert str(path) in message
    assert f"near byte {path.stat().st_size:,}" in message
    assert "after message #12, id 13" in message  # the last complete message
    assert "malformed JSON: the file ends in the middle of the JSON" in message
    assert "nothing of that chat was stored" in message
    assert store.queries.count_messages(FIXTURE_CHAT_ID) == 0


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"id": "3"}, "message #2, id 3: 'id': expected an integer, found '3'"),
        ({"date_unixtime": None, "date": None}, "message #2, id 3: missing 'date'"),
        ({"date_unixtime": "yesterday"}, "'date_unixtime': expected Unix seconds"),
        ({"date_unixtime": None, "date": "01.02.2024"}, "'date': expected an ISO date"),
        ({"from_id": "robot9"}, "expected 'user<digits>', 'channel<digits>' or 'chat<digits>'"),
        ({"text": 42}, "'text': expected a string or a list, found 42"),
        ({"reactions": [{"emoji": "x"}]}, "'reactions': expected objects with a non-negative"),
        ({"reply_to_message_id": "2"}, "'reply_to_message_id': expected an integer"),
        ({"type": "note"}, "'type': expected 'message' or 'service', found 'note'"),
    ],
)
def test_wrong_types_name_the_message(
    store: Store,
    write_export: Callable[..., Path],
    text_message: MessageBuilder,
    bad: dict[str, Any],
    expected: str,
) -> None:
    messages = [text_message(i, 1, f"m{i}", 1714557600 + i) for i in range(1, 6)]
    messages[2].update(bad)  # message #2 (0-based), id 3
    path = write_export(_single(messages))

    with pytest.raises(ExportFormatError, match="near byte") as caught:
        import_export(path, store, batch_size=2)  # rows 1-2 were flushed: rolled back too

    assert expected in str(caught.value)
    # Messages 1 and 2 were written before message 3 failed: the chat's
    # transaction rolled them back (the id as the importer computes it).
    assert store.queries.count_messages(bot_api_chat_id(77, "private_supergroup")) == 0


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ([], "expected a JSON object at the top level, found start_array"),
        ({"name": "x"}, "found neither 'messages'"),
        ({"name": "x", "type": "private_group", "messages": []}, "'id': expected an integer"),
        ({"id": 5, "type": "private_group", "messages": {}}, "'messages': expected an array"),
        ({"id": 5, "type": "secret_chat", "messages": []}, "unknown chat type 'secret_chat'"),
        ({"id": 5, "type": "private_group", "messages": [7]}, "expected a message object"),
    ],
)
def test_bad_structure(
    store: Store, write_export: Callable[..., Path], obj: Any, expected: str
) -> None:
    path = write_export(obj)

    with pytest.raises(ExportFormatError) as caught:
        import_export(path, store)

    assert expected in str(caught.value)


def test_empty_and_missing_files(store: Store, write_export: Callable[..., Path]) -> None:
    with pytest.raises(ExportFormatError, match="the file is empty"):
        import_export(write_export(""), store)
    with pytest.raises(ExportFormatError, match="cannot read"):
        import_export(write_export("{}").parent / "nope.json", store)


def test_a_broken_chat_keeps_the_chats_before_it(
    store: Store, write_export: Callable[..., Path], text_message: MessageBuilder
) -> None:
    good = {
        "name": "Good",
        "type": "private_group",
        "id": 1,
        "messages": [text_message(1, 5, "fine", 1714557600)],
    }
    broken = {
        "name": "Broken",
        "type": "private_group",
        "id": 2,
        "messages": [text_message(1, 5, "ok", 1714557600), {"id": 2, "type": "message"}],
    }
    path = write_export({"chats": {"list": [good, broken]}})

    with pytest.raises(ExportFormatError) as caught:
        import_export(path, store)

    message = str(caught.value)
    assert "chat 'Broken' (id 2), message #1, id 2: missing 'date'" in message
    assert "chats imported before it are kept: Good" in message
    assert store.queries.count_messages(-1) == 1
    assert store.queries.count_messages(-2) == 0


def test_header_after_messages_is_still_read(
    store: Store, write_export: Callable[..., Path], text_message: MessageBuilder
) -> None:
    # Not what Telegram Desktop writes, but valid JSON: the header is found by a second scan.
    text = json.dumps(
        {
            "messages": [text_message(1, 5, "late header", 1714557600)],
            "name": "Late",
            "type": "private_group",
            "id": 9,
        }
    )
    report = import_export(write_export(text), store)

    assert [(c.chat_id, c.title, c.added) for c in report.chats] == [(-9, "Late", 1)]


def test_syntax_error_in_the_middle(
    store: Store, single_chat: Path, write_export: Callable[..., Path]
) -> None:
    text = single_chat.read_text(encoding="utf-8").replace('"id": 10,', '"id": 10,,', 1)
    path = write_export(text)

    with pytest.raises(ExportFormatError) as caught:
        import_export(path, store)

    message = str(caught.value)
    assert "after message #8, id 9: malformed JSON: parse error: invalid object key" in message
    assert '"id": 10,, "type"' in message  # the text around the error
    assert store.queries.count_messages(FIXTURE_CHAT_ID) == 0
