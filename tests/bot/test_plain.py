"""Plain group messages recorded from the JSON: the same row as through python-telegram-bot,
and nothing accepted that python-telegram-bot or the intake's bounds would reject."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Bot, Update
from tgstats.bot.intake import _check_bounds
from tgstats.bot.plain import plain_message
from tgstats.store.recorder import to_record

from ..e2e.fake_bot_api import DEFAULT_TOKEN
from .test_intake import POISON

BOT = Bot(DEFAULT_TOKEN)
NOW = int(time.time())
GROUP = {"id": -1001234, "type": "supergroup", "title": "Group"}
ALICE = {"id": 42, "is_bot": False, "first_name": "Alice", "username": "alice"}


def message(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "message_id": 7,
        "date": NOW - 60,
        "chat": GROUP,
        "from": ALICE,
        "text": "hello",
    }
    return {k: v for k, v in {**base, **fields}.items() if v is not ...}


def same_row_as_telegram(raw: dict[str, Any]) -> None:
    """``raw`` is taken as plain, parses, passes the bounds, and gives the store's own row."""
    plain = plain_message(raw)
    assert plain is not None, raw
    update = Update.de_json(raw, BOT)
    _check_bounds(update)
    parsed = update.message or update.edited_message
    assert parsed is not None
    assert plain.update_id == update.update_id
    assert plain.record == to_record(parsed)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"from": {"id": 5, "is_bot": True, "first_name": "A bot"}},  # stored, not counted
        {"from": {**ALICE, "last_name": "Liddell", "language_code": "en", "is_premium": True}},
        {"from": ..., "sender_chat": {"id": -1005, "type": "channel", "title": "News"}},
        {"sender_chat": {"id": -1006, "type": "channel", "username": "chan"}},  # no title
        {"chat": {"id": -42, "type": "group", "title": "Basic \x00group"}},
        {"chat": {"id": -43, "type": "group"}},  # no title at all
        {
            "text": "see \U0001f600 docs",
            "entities": [{"type": "text_link", "offset": 7, "length": 4, "url": "https://x.org"}],
        },
        {
            "text": "bold and @alice",
            "entities": [
                {"type": "bold", "offset": 0, "length": 4},
                {"type": "mention", "offset": 9, "length": 6},
            ],
        },
        {"text": "lone \ud800 surrogate and NUL \x00"},
        {"reply_to_message": {"message_id": 3, "date": NOW - 99, "chat": GROUP, "text": "q"}},
        {  # a forum topic: the "reply" to the topic's first message is not a reply
            "message_thread_id": 3,
            "is_topic_message": True,
            "reply_to_message": {"message_id": 3, "date": NOW - 99, "chat": GROUP},
        },
        {
            "message_thread_id": 3,
            "is_topic_message": True,
            "reply_to_message": {
                "message_id": 4,
                "date": NOW - 9,
                "chat": GROUP,
                "from": ALICE,
                "text": "/cmd",
            },
        },
    ],
)
def test_plain_messages_give_the_same_row(fields: dict[str, Any]) -> None:
    same_row_as_telegram({"update_id": 1, "message": message(**fields)})


def test_an_edit_gives_the_same_row() -> None:
    same_row_as_telegram(
        {"update_id": 2, "edited_message": message(text="fixed", edit_date=NOW - 1)}
    )


@pytest.mark.parametrize(
    "raw",
    [
        *({"update_id": 9, **p} for p in POISON),  # the intake's poison: the usual path keeps them
        {"update_id": 9, "message": message(text="/heatmap 30")},  # a command: to its handler
        {"update_id": 9, "message": message(chat={"id": 42, "type": "private", "first_name": "A"})},
        {"update_id": 9, "message": message(text=..., photo=[{"file_id": "x"}])},  # media
        # A sticker, even with a caption-like text: its emoji is the usual path's to store.
        {"update_id": 9, "message": message(sticker={"file_id": "s", "emoji": "😂"})},
        {"update_id": 9, "message": message(forward_origin={"type": "hidden_user"})},
        {"update_id": 9, "message": message(message_id=True)},  # a bool is no id
        {"update_id": 9, "message": message(message_id=2**64)},
        {"update_id": 9, "message": message(date=1_000_000_000)},  # before Telegram
        {"update_id": 9, "message": message(**{"from": {"id": 1, "first_name": "No is_bot"}})},
        {"update_id": 9, "message": message(**{"from": {**ALICE, "first_name": ""}})},
        {"update_id": 9, "message": message(entities=[{"type": "bold", "offset": "0"}])},
        {"update_id": 9, "message": message(reply_to_message={**message(), "date": 2**40})},
        {"update_id": 9, "message": message(reply_to_message=message(reply_to_message=message()))},
        {
            "update_id": 9,
            "message": message(entities=[{"type": "bold", "offset": 0, "length": 1}] * 1001),
        },
        {"update_id": 9, "message": message(), "edited_message": message()},
        {"update_id": "9", "message": message()},
        [1, 2],
    ],
)
def test_anything_else_takes_the_usual_path(raw: Any) -> None:
    assert plain_message(raw) is None


# -- generated: whatever plain_message accepts, python-telegram-bot parses to the same row ---

_names = st.text(min_size=1, max_size=12)
_group_chats = st.fixed_dictionaries(
    {"id": st.integers(-(2**52), -1), "type": st.sampled_from(["group", "supergroup"])},
    optional={"title": st.text(max_size=12), "username": _names, "is_forum": st.booleans()},
)
_sender_chats = st.fixed_dictionaries(
    {"id": st.integers(-(2**52), -1), "type": st.just("channel")},
    optional={"title": st.text(max_size=12), "username": _names},
)
_users = st.fixed_dictionaries(
    {"id": st.integers(1, 2**40), "is_bot": st.booleans(), "first_name": _names},
    optional={
        "last_name": st.text(max_size=8),
        "username": _names,
        "language_code": st.sampled_from(["en", "ru"]),
        "is_premium": st.booleans(),
    },
)
_entities = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["bold", "text_link", "mention", "bot_command", "new_kind"]),
            "offset": st.integers(0, 30),
            "length": st.integers(0, 30),
        },
        optional={"url": st.text(max_size=10)},
    ),
    max_size=4,
)
_texts = st.one_of(
    st.text(min_size=1, max_size=40),
    st.sampled_from(["a\x00b", "\ud800x", "\U0001f600 emoji", "x /cmd"]),
).filter(lambda text: not text.startswith("/"))


def _messages(reply: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "message_id": st.integers(1, 10**9),
            "date": st.integers(NOW - 10**8, NOW),
            "chat": _group_chats,
            "text": _texts,
        },
        optional={
            "from": _users,
            "sender_chat": _sender_chats,
            "entities": _entities,
            "reply_to_message": reply,
            "message_thread_id": st.integers(1, 10**6),
            "is_topic_message": st.booleans(),
            "edit_date": st.integers(NOW - 10**6, NOW),
        },
    )


_updates = st.builds(
    lambda kind, update_id, body: {"update_id": update_id, kind: body},
    st.sampled_from(["message", "edited_message"]),
    st.integers(1, 2**31),
    _messages(_messages(st.nothing())),
)
# Hostile values put in place of one field: wrong types, out of range, absent.
_hostile = st.one_of(
    st.sampled_from([None, True, 0, -1, 2**40, 2**64, -(2**70), 1.5, "", "/x", "7", [], {}]),
    st.text(max_size=3),
    st.integers(),
    st.dictionaries(st.sampled_from(["id", "type", "x"]), st.integers(), max_size=2),
)
_PLACES = [
    (),
    ("chat",),
    ("from",),
    ("sender_chat",),
    ("reply_to_message",),
    ("entities", 0),
]
_KEYS = [
    "update_id",
    "message_id",
    "date",
    "chat",
    "from",
    "text",
    "entities",
    "id",
    "type",
    "is_bot",
    "first_name",
    "title",
    "offset",
    "length",
    "url",
    "edit_date",
    "message_thread_id",
    "is_topic_message",
    "reply_to_message",
    "photo",
    "forward_origin",
]


def _mutate(raw: dict[str, Any], place: tuple[Any, ...], key: str, value: Any, drop: bool) -> None:
    """Put ``value`` at ``key`` (or drop the key) in the object at ``place`` of the message."""
    target: Any = raw if key == "update_id" else raw.get("message", raw.get("edited_message"))
    for step in place:
        if isinstance(target, dict) and isinstance(step, str):
            target = target.get(step)
        elif isinstance(target, list) and isinstance(step, int) and len(target) > step:
            target = target[step]
        else:
            return
    if not isinstance(target, dict):
        return
    if drop:
        target.pop(key, None)
    else:
        target[key] = value


@pytest.mark.fuzz
@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    raw=_updates,
    mutations=st.lists(
        st.tuples(st.sampled_from(_PLACES), st.sampled_from(_KEYS), _hostile, st.booleans()),
        max_size=2,
    ),
)
def test_generated_updates_accepted_only_when_telegram_agrees(
    raw: dict[str, Any], mutations: list[tuple[Any, ...]]
) -> None:
    for mutation in mutations:
        _mutate(raw, *mutation)
    raw = json.loads(json.dumps(raw))  # as it comes off the wire
    if plain_message(raw) is not None:
        same_row_as_telegram(raw)
