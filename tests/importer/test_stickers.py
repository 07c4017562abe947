"""Stickers' emoji from a Telegram Desktop export: stored, checked, filled in on re-import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from tgstats.importer import ExportFormatError, import_export
from tgstats.plugins import EmojiCount, MemberStickers
from tgstats.store import Store

CHAT_ID = -(10**12 + 77)  # "private_supergroup" 77 as the Bot API names it
MessageBuilder = Callable[..., dict[str, Any]]


def _sticker(message_id: int, user: int, unix: int, **extra: Any) -> dict[str, Any]:
    """A sticker message as Telegram Desktop writes it."""
    return {
        "id": message_id,
        "type": "message",
        "date": "2024-05-01T12:00:00",
        "date_unixtime": str(unix),
        "from": f"User {user}",
        "from_id": f"user{user}",
        "file": "stickers/sticker.webp",
        "file_name": "sticker.webp",
        "thumbnail": "stickers/sticker.webp_thumb.jpg",
        "media_type": "sticker",
        "width": 512,
        "height": 512,
        "text": "",
        "text_entities": [],
        **extra,
    }


def _export(messages: list[Any]) -> dict[str, Any]:
    return {"name": "G", "type": "private_supergroup", "id": 77, "messages": messages}


def _emoji(store: Store) -> list[tuple[int, str | None, str | None]]:
    return [(m.message_id, m.media_kind, m.sticker_emoji) for m in store.queries.messages(CHAT_ID)]


def test_the_fixture_sticker_keeps_its_emoji(store: Store, single_chat: Path) -> None:
    import_export(single_chat, store)
    stickers = [m for m in store.queries.messages(-1001987654321) if m.media_kind == "sticker"]
    assert [(m.message_id, m.sticker_emoji) for m in stickers] == [(6, "😂")]
    assert all(
        m.sticker_emoji is None for m in store.queries.messages(-1001987654321) if m.message_id != 6
    )


def test_stickers_with_and_without_emoji(
    store: Store, write_export: Callable[..., Path], text_message: MessageBuilder
) -> None:
    path = write_export(
        _export(
            [
                _sticker(1, 5, 1714557600, sticker_emoji="😂"),
                _sticker(2, 5, 1714557601, sticker_emoji="😂"),
                _sticker(3, 5, 1714557602, sticker_emoji="\u202e👍\n"),  # cleaned
                _sticker(4, 5, 1714557603),  # no emoji in the file
                _sticker(5, 5, 1714557604, sticker_emoji=""),
                _sticker(6, 5, 1714557605, sticker_emoji=None),
                # A photo claiming a sticker emoji: not a sticker, so no emoji is kept.
                text_message(7, 5, "pic", 1714557606, photo="photos/p.jpg", sticker_emoji="🔥"),
            ]
        )
    )
    import_export(path, store)
    assert _emoji(store) == [
        (1, "sticker", "😂"),
        (2, "sticker", "😂"),
        (3, "sticker", "👍"),
        (4, "sticker", None),
        (5, "sticker", None),
        (6, "sticker", None),
        (7, "photo", None),
    ]
    assert store.queries.member_stickers(CHAT_ID, 5) == MemberStickers(
        stickers=6, top=[EmojiCount("😂", 2), EmojiCount("👍", 1)]
    )


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (42, "'sticker_emoji': expected a string, found int: 42"),
        ({"emoji": "😂"}, "'sticker_emoji': expected a string, found dict: {'emoji': '😂'}"),
        ("😂" * 5000, "'sticker_emoji': expected one emoji, found 5,000 characters: '😂😂"),
        ("a" * 17, "'sticker_emoji': expected one emoji, found 17 characters: 'aaaa"),
    ],
)
def test_forged_emoji_name_the_message(
    store: Store,
    write_export: Callable[..., Path],
    text_message: MessageBuilder,
    bad: Any,
    expected: str,
) -> None:
    messages = [text_message(1, 5, "hi", 1714557600), _sticker(2, 5, 1714557601, sticker_emoji=bad)]
    path = write_export(_export(messages))
    with pytest.raises(ExportFormatError) as caught:
        import_export(path, store)
    message = str(caught.value)
    assert "message #1, id 2: " + expected in message
    assert store.queries.count_messages(CHAT_ID) == 0  # nothing of that chat stored


def test_a_re_import_fills_in_the_emoji_stored_without_it(
    store: Store, write_export: Callable[..., Path], text_message: MessageBuilder
) -> None:
    # Stored before schema version 5 (or from an export without the field): no emoji.
    old = write_export(
        _export([_sticker(1, 5, 1714557600), _sticker(2, 5, 1714557601, sticker_emoji="👍")]),
        "old.json",
    )
    import_export(old, store)
    new = write_export(
        _export(
            [
                _sticker(1, 5, 1714557600, sticker_emoji="😂"),
                _sticker(2, 5, 1714557601, sticker_emoji="🔥"),  # a stored emoji stays
                _sticker(3, 5, 1714557602, sticker_emoji="😂"),
            ]
        ),
        "new.json",
    )
    import_export(new, store)
    assert _emoji(store) == [(1, "sticker", "😂"), (2, "sticker", "👍"), (3, "sticker", "😂")]
    with store.engine.connect() as connection:
        assert connection.execute(sqlalchemy.text("SELECT count(*) FROM messages")).scalar() == 3
