"""One Telegram Desktop export message (a parsed JSON object) -> store rows.

Id mapping (so imported history and live-recorded messages are the same rows):

* chats: the export writes the *bare* id. Supergroups and channels become the
  Bot API id ``-100<id>`` (``-(10**12 + id)``), basic groups ``-<id>``, private
  chats keep the positive user id.
* senders: ``from_id`` ``"user123"`` is user 123. ``"channel456"`` (a channel or
  an anonymous admin posting in the group) becomes ``-100456`` and
  ``"chat789"`` becomes ``-789``, both marked ``is_channel``; Bot API user ids
  are always positive, so these can never collide with a user.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from tgstats.errors import TgstatsError
from tgstats.store.queries import UserInfo

__all__ = [
    "MEDIA_KINDS",
    "PRIVATE_TYPES",
    "SUPERGROUP_OFFSET",
    "ExportFormatError",
    "MessageConverter",
    "bot_api_chat_id",
    "sender_id",
]

# Bot API ids of supergroups and channels are -(10**12 + bare id): "-100" + id.
SUPERGROUP_OFFSET = 10**12

_CHANNEL_TYPES = frozenset(
    {"private_supergroup", "public_supergroup", "private_channel", "public_channel"}
)
_GROUP_TYPES = frozenset({"private_group"})
PRIVATE_TYPES = frozenset(
    {"personal_chat", "bot_chat", "saved_messages", "replies", "verification_codes"}
)

# Export ``media_type`` -> stored media kind.  The stored names are
# python-telegram-bot's attachment names (MessageAttachmentType), which is what
# the live recorder stores, so /stats treat both sources alike.
MEDIA_KINDS = {
    "sticker": "sticker",
    "video_file": "video",
    "voice_message": "voice",
    "audio_file": "audio",
    "animation": "animation",
    "video_message": "video_note",
}

# Keys that mark a media message when there is no ``media_type``, checked in order.
_MEDIA_KEYS = (
    ("photo", "photo"),
    ("poll", "poll"),
    ("contact_information", "contact"),
    ("game_title", "game"),
    ("invoice_information", "invoice"),
    ("todo_list", "checklist"),
    ("dice", "dice"),
)
_ANY_MEDIA_KEY = frozenset(
    {"media_type", "location_information", "file", *(key for key, _ in _MEDIA_KEYS)}
)


class ExportFormatError(TgstatsError):
    """The export is not what Telegram Desktop writes; the message names where and what."""


def bot_api_chat_id(export_id: int, chat_type: str | None) -> int:
    """The Bot API chat id of an export's chat (see the module docstring)."""
    if export_id < 0:  # already a Bot API id (hand-made or converted file)
        return export_id
    if chat_type in _CHANNEL_TYPES:
        return -(SUPERGROUP_OFFSET + export_id)
    if chat_type in _GROUP_TYPES:
        return -export_id
    if chat_type in PRIVATE_TYPES:
        return export_id
    raise ExportFormatError(
        f"chat {export_id}: unknown chat type {chat_type!r}; expected one of "
        f"{', '.join(sorted(_CHANNEL_TYPES | _GROUP_TYPES | PRIVATE_TYPES))} "
        "(or pass --chat-id)"
    )


def sender_id(value: str) -> tuple[int, bool]:
    """``from_id`` -> (stored id, is_channel); raises ValueError on an unknown shape."""
    if value.startswith("user") and value[4:].isdigit():
        return int(value[4:]), False
    if value.startswith("channel") and value[7:].isdigit():
        return -(SUPERGROUP_OFFSET + int(value[7:])), True
    if value.startswith("chat") and value[4:].isdigit():
        return -int(value[4:]), True
    raise ValueError(
        f"expected 'user<digits>', 'channel<digits>' or 'chat<digits>', found {value!r}"
    )


def flatten_text(text: Any) -> str:
    """``text`` is a string or a list of strings and entity objects with a ``text``."""
    if type(text) is str:
        return text
    if isinstance(text, list):
        parts = []
        for part in text:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text", ""), str):
                parts.append(part.get("text", ""))
            else:
                raise ValueError(f"'text': expected strings or entity objects, found {_show(part)}")
        return "".join(parts)
    raise ValueError(f"'text': expected a string or a list, found {_show(text)}")


def media_kind(msg: dict[str, Any]) -> str | None:
    if _ANY_MEDIA_KEY.isdisjoint(msg):  # most messages are plain text
        return None
    kind = msg.get("media_type")
    if kind is not None:
        return MEDIA_KINDS.get(kind, str(kind))
    for key, name in _MEDIA_KEYS:
        if key in msg:
            return name
    if "location_information" in msg:
        return "venue" if "place_name" in msg or "address" in msg else "location"
    if "file" in msg:
        return "document"
    return None


@attrs.define
class ChatStats:
    """What happened to one chat's messages while converting."""

    messages: int = 0
    service: int = 0
    migrated_from: str | None = None  # title of the basic group this supergroup came from


class MessageConverter:
    """Converts one chat's messages; remembers the senders it saw."""

    def __init__(self, chat_id: int, tz: ZoneInfo) -> None:
        self.chat_id = chat_id
        self.tz = tz
        self.stats = ChatStats()
        self.users: dict[int, UserInfo] = {}
        self._pending_users: dict[int, UserInfo] = {}
        self._senders: dict[str, int] = {}  # from_id -> stored id

    def take_new_users(self) -> list[UserInfo]:
        """Senders first seen since the previous call (upserted with each batch)."""
        users = list(self._pending_users.values())
        self._pending_users.clear()
        return users

    def convert(self, msg: Any) -> dict[str, Any] | None:
        """The message row (MessageRow's fields) for one export message, or None for a
        service message.

        Raises ValueError with a message naming the field; the reader adds the position.
        """
        if not isinstance(msg, dict):
            raise ValueError(f"expected a message object, found {_show(msg)}")
        message_id = msg.get("id")
        if type(message_id) is not int:
            raise ValueError(f"'id': expected an integer, found {_show(message_id)}")
        kind = msg.get("type")
        if kind == "service":
            self.stats.service += 1
            if msg.get("action") == "migrate_from_group":
                self.stats.migrated_from = str(msg.get("title") or "")
            return None
        if kind != "message":
            raise ValueError(f"'type': expected 'message' or 'service', found {_show(kind)}")
        unix = msg.get("date_unixtime")
        if type(unix) is str and unix.isdigit():  # the common case, inlined for speed
            date = int(unix)
        else:
            date = self._unix(msg, "date", "date_unixtime", required=True)  # type: ignore[assignment]
        user_id = None
        from_id = msg.get("from_id")
        if from_id is not None:
            known = self._senders.get(from_id) if type(from_id) in (str, int) else None
            if known is None:
                known = self._new_sender(from_id, msg.get("from"))
            user_id = known
        reply_to = msg.get("reply_to_message_id")
        if reply_to is not None and type(reply_to) is not int:
            raise ValueError(f"'reply_to_message_id': expected an integer, found {_show(reply_to)}")
        text = msg.get("text", "")
        reactions = msg.get("reactions")
        edited = msg.get("edited_unixtime")
        self.stats.messages += 1
        # A plain dict with Unix seconds, the shape Batch.add_messages stores directly:
        # building MessageRow/datetime objects only to take them apart again costs
        # about a third of the import time.
        return {
            "chat_id": self.chat_id,
            "message_id": message_id,
            "thread_id": None,  # the export does not say which forum topic a message is in
            "user_id": user_id,
            "date": date,
            "text": text if type(text) is str else flatten_text(text),
            "reply_to_message_id": reply_to,
            "media_kind": media_kind(msg),
            "edit_date": None
            if edited is None and "edited" not in msg
            else self._unix(msg, "edited", "edited_unixtime", required=False),
            "reaction_count": 0 if reactions is None else _reaction_total(reactions),
        }

    def _new_sender(self, from_id: Any, name: Any) -> int:
        if type(from_id) is int and from_id > 0:
            # Exports written before 2020 give a bare number (always a user then).
            user_id, is_channel = from_id, False
        elif isinstance(from_id, str):
            user_id, is_channel = sender_id(from_id)
        else:
            raise ValueError(f"'from_id': expected a string like 'user123', found {_show(from_id)}")
        self._senders[from_id] = user_id
        user = UserInfo(
            user_id=user_id,
            username=None,
            display_name=name if isinstance(name, str) and name else "Deleted Account",
            is_channel=is_channel,
        )
        self.users[user_id] = user
        self._pending_users[user_id] = user
        return user_id

    def _unix(self, msg: dict[str, Any], key: str, unix_key: str, *, required: bool) -> int | None:
        """Unix seconds from ``unix_key``, else from the naive local ISO ``key`` in ``tz``."""
        unix = msg.get(unix_key)
        if unix is not None:
            # The export writes it as a string of digits; accept a number too.
            if (isinstance(unix, str) and unix.isdigit()) or type(unix) is int:
                return int(unix)
            raise ValueError(f"{unix_key!r}: expected Unix seconds, found {_show(unix)}")
        local = msg.get(key)
        if local is None:
            if required:
                raise ValueError(f"missing {key!r} (and {unix_key!r})")
            return None
        if not isinstance(local, str):
            raise ValueError(f"{key!r}: expected an ISO date string, found {_show(local)}")
        try:
            parsed = datetime.fromisoformat(local)
        except ValueError:
            raise ValueError(
                f"{key!r}: expected an ISO date like 2024-01-31T18:05:00, found {local!r}"
            ) from None
        if parsed.tzinfo is None:
            # Naive local time of the exporting machine: interpreted in --tz.
            parsed = parsed.replace(tzinfo=self.tz)
        return int(parsed.timestamp())


def _reaction_total(reactions: Any) -> int:
    if reactions is None:
        return 0
    if not isinstance(reactions, list):
        raise ValueError(f"'reactions': expected a list, found {_show(reactions)}")
    total = 0
    for reaction in reactions:
        count = reaction.get("count") if isinstance(reaction, dict) else None
        if type(count) is not int or count < 0:
            raise ValueError(
                f"'reactions': expected objects with a non-negative integer 'count', "
                f"found {_show(reaction)}"
            )
        total += count
    return total


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
