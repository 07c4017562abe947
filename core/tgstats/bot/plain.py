"""Plain group messages recorded straight from the JSON, without python-telegram-bot objects.

Turning an update into ``telegram.Update`` is most of what recording costs
(``bench/record_bench.py``: python-telegram-bot sets every one of a Message's
hundred-odd attributes through a Python ``__setattr__``).  Most updates are
plain text messages in a group that no handler will see: the store only needs
their row.  :func:`plain_message` builds that row (the store's own
:class:`~tgstats.store.recorder.RecordedMessage`) from the dict, with the same
functions the store uses on a parsed message (``flatten_text``,
``counts_as_chat``'s rule, ``clean_text``), so both paths store the same row
(``tests/bot/test_plain.py`` checks it on generated messages).

It is deliberately narrow: it takes an update only when every key is one it
knows and every value has the type Telegram documents, so python-telegram-bot
would certainly parse it.  Anything else (media, forwards, service messages,
commands, private chats, an unknown key, a value out of range, a malformed
field) returns None and takes the usual path, which parses it, or keeps it as
a rejected update exactly as before.  The poison-update behaviour is therefore
unchanged: nothing this module accepts could have been rejected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from telegram import MessageEntity

from tgstats.store.bounds import check_date, check_id
from tgstats.store.cleaning import clean_text
from tgstats.store.counting import is_command_text
from tgstats.store.queries import ChatInfo, UserInfo
from tgstats.store.recorder import RecordedMessage, flatten_text

__all__ = ["PlainMessage", "plain_message"]

_GROUP_TYPES = frozenset({"group", "supergroup"})
_SENDER_CHAT_TYPES = frozenset({"group", "supergroup", "channel"})
# Keys of a message this path understands; any other key sends the update the usual way.
_MESSAGE_KEYS = frozenset(
    {
        "message_id",
        "date",
        "chat",
        "from",
        "sender_chat",
        "text",
        "entities",
        "reply_to_message",
        "message_thread_id",
        "is_topic_message",
        "edit_date",
    }
)
_CHAT_KEYS = frozenset({"id", "type", "title", "username", "first_name", "last_name", "is_forum"})
_USER_KEYS = frozenset(
    {
        "id",
        "is_bot",
        "first_name",
        "last_name",
        "username",
        "language_code",
        "is_premium",
        "added_to_attachment_menu",
    }
)
_ENTITY_KEYS = frozenset({"type", "offset", "length", "url", "language", "custom_emoji_id"})
_MAX_ENTITIES = 1000  # Telegram sends at most 100; more is not a Telegram update


@attrs.frozen
class PlainMessage:
    """A new or edited plain group message, already turned into its store row."""

    update_id: int
    record: RecordedMessage


def plain_message(raw: Any) -> PlainMessage | None:
    """The update's row if it is a plain group text message this path can take, else None."""
    if not isinstance(raw, dict) or len(raw) != 2:
        return None
    update_id = raw.get("update_id")
    message = raw.get("message", raw.get("edited_message"))
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    if not isinstance(message, dict):
        return None
    text = message.get("text")
    if not isinstance(text, str) or not text or text.startswith("/"):
        return None  # commands go to their handlers, with a parsed Update
    try:
        record = _record(message)
    except _NotPlain:
        return None
    except Exception:
        # Turning it into a row raised (a lone surrogate before a text link
        # does, in the store's flatten_text too): the usual path raises the
        # same and keeps the update as rejected, as it always did.
        return None
    return PlainMessage(update_id, record)


class _NotPlain(Exception):
    """Internal: this update takes the usual path."""


def _record(message: Mapping[str, Any]) -> RecordedMessage:
    _check_message(message, nested=False)
    chat = message["chat"]
    if chat["type"] not in _GROUP_TYPES:
        raise _NotPlain  # a direct message is never recorded; a channel post is not ours
    sender_chat = message.get("sender_chat")
    user = message.get("from")
    sender: UserInfo | None
    if sender_chat is not None:
        sender = UserInfo(
            user_id=sender_chat["id"],
            username=sender_chat.get("username"),
            display_name=clean_text(_effective_name(sender_chat) or str(sender_chat["id"])),
            is_channel=True,
        )
    elif user is not None:
        sender = UserInfo(
            user_id=user["id"],
            username=user.get("username"),
            display_name=clean_text(_full_name(user)),
        )
    else:
        sender = None
    text: str = message["text"]
    entities = tuple(MessageEntity.de_json(e, None) for e in message.get("entities") or ())
    first = (str(entities[0].type), entities[0].offset) if entities else None
    counted = not (sender_chat is None and user is not None and user["is_bot"])
    edit_date = message.get("edit_date")
    title = _effective_name(chat)
    row = {
        "chat_id": chat["id"],
        "message_id": message["message_id"],
        "thread_id": message.get("message_thread_id"),
        "user_id": sender.user_id if sender else None,
        "date": message["date"],
        "text": clean_text(flatten_text(text, entities)),
        "reply_to_message_id": _reply_to(message),
        "media_kind": None,
        "edit_date": edit_date,
        "counted": counted and not is_command_text(text, first),
        "sticker_emoji": None,  # a sticker has a `sticker` key: never this path
    }
    return RecordedMessage(
        chat=ChatInfo(
            chat_id=chat["id"],
            title=clean_text(title) if title else title,
            type=chat["type"],
            username=chat.get("username"),
        ),
        sender=sender,
        row=row,
    )


def _reply_to(message: Mapping[str, Any]) -> int | None:
    reply = message.get("reply_to_message")
    if reply is None:
        return None
    # As the store's recorder: in a forum topic every message "replies" to the
    # topic's first message, which is not a reply anyone wrote.
    if message.get("is_topic_message") and reply["message_id"] == message.get("message_thread_id"):
        return None
    reply_id: int = reply["message_id"]
    return reply_id


# -- the checks: what python-telegram-bot would certainly parse, and the intake accept ---


def _check_message(message: Mapping[str, Any], *, nested: bool) -> None:
    if not message.keys() <= _MESSAGE_KEYS:
        raise _NotPlain
    _need_int(message, "message_id")
    _need_int(message, "date")
    chat = message.get("chat")
    _check_chat(chat, _GROUP_TYPES)
    _optional(message, "text", str)
    _optional(message, "message_thread_id", int)
    _optional(message, "is_topic_message", bool)
    _optional(message, "edit_date", int)
    if "from" in message:
        _check_user(message["from"])
    if "sender_chat" in message:
        _check_chat(message["sender_chat"], _SENDER_CHAT_TYPES)
    if "entities" in message:
        _check_entities(message["entities"])
    if "reply_to_message" in message:
        reply = message["reply_to_message"]
        if nested or not isinstance(reply, dict):
            raise _NotPlain  # Telegram never nests replies deeper
        _check_message(reply, nested=True)
    # The intake's bounds (tgstats.store.bounds): out of range goes the usual
    # way, to be kept as rejected with the same reason as before.  A quoted
    # reply's dates too: python-telegram-bot cannot turn 2**40 into a datetime.
    try:
        check_date(message["date"], "message.date")
        if message.get("edit_date") is not None:
            check_date(message["edit_date"], "message.edit_date")
        if nested:
            return
        check_id(message["chat"]["id"], "message.chat.id")
        check_id(message["message_id"], "message.message_id")
        if "from" in message:
            check_id(message["from"]["id"], "message.from.id")
    except ValueError:
        raise _NotPlain from None


def _check_chat(chat: Any, types: frozenset[str]) -> None:
    if not isinstance(chat, dict) or not chat.keys() <= _CHAT_KEYS:
        raise _NotPlain
    _need_int(chat, "id")
    kind = chat.get("type")
    if not isinstance(kind, str) or kind not in types:
        raise _NotPlain
    for key in ("title", "username", "first_name", "last_name"):
        _optional(chat, key, str)
    _optional(chat, "is_forum", bool)


def _check_user(user: Any) -> None:
    if not isinstance(user, dict) or not user.keys() <= _USER_KEYS:
        raise _NotPlain
    _need_int(user, "id")
    if not isinstance(user.get("is_bot"), bool):
        raise _NotPlain
    first_name = user.get("first_name")
    if not isinstance(first_name, str) or not first_name:
        raise _NotPlain
    for key in ("last_name", "username", "language_code"):
        _optional(user, key, str)
    _optional(user, "is_premium", bool)
    _optional(user, "added_to_attachment_menu", bool)


def _check_entities(entities: Any) -> None:
    if not isinstance(entities, list) or len(entities) > _MAX_ENTITIES:
        raise _NotPlain
    for entity in entities:
        if not isinstance(entity, dict) or not entity.keys() <= _ENTITY_KEYS:
            raise _NotPlain
        if not isinstance(entity.get("type"), str):
            raise _NotPlain
        _need_int(entity, "offset")
        _need_int(entity, "length")
        for key in ("url", "language", "custom_emoji_id"):
            _optional(entity, key, str)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _need_int(data: Mapping[str, Any], key: str) -> None:
    if not _is_int(data.get(key)):
        raise _NotPlain


def _optional(data: Mapping[str, Any], key: str, kind: type) -> None:
    """``data[key]``, when present and not null, must be a ``kind`` (a bool is no int)."""
    value = data.get(key)
    if value is None:
        return
    if kind is int:
        if not _is_int(value):
            raise _NotPlain
    elif not isinstance(value, kind):
        raise _NotPlain


def _effective_name(chat: Mapping[str, Any]) -> str | None:
    """python-telegram-bot's ``Chat.effective_name``: the title, else the full name."""
    title: str | None = chat.get("title")
    if title is not None:
        return title
    return _full_name(chat) if chat.get("first_name") else None


def _full_name(userlike: Mapping[str, Any]) -> str:
    first: str = userlike["first_name"]
    last = userlike.get("last_name")
    return f"{first} {last}" if last else first
