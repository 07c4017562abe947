"""One Telegram Desktop export message (a parsed JSON object) -> store rows.

Id mapping (so imported history and live-recorded messages are the same rows):

* chats: the export writes the *bare* id. Supergroups and channels become the
  Bot API id ``-100<id>`` (``-(10**12 + id)``), basic groups ``-<id>``, private
  chats keep the positive user id.
* senders: ``from_id`` ``"user123"`` is user 123. ``"channel456"`` (a channel or
  an anonymous admin posting in the group) becomes ``-100456`` and
  ``"chat789"`` becomes ``-789``, both marked ``is_channel``; Bot API user ids
  are always positive, so these can never collide with a user.  Exports from
  before 2021 write a bare number: the chat's own id there is the chat
  posting (a channel post, an anonymous admin), any other number a user.
* forum topics: the export has no topic field, but every message of a topic
  replies to the topic's ``topic_created`` service message (or to a message
  that does).  The topic is that message's id, which is what the Bot API
  calls ``message_thread_id``; a reply to the topic's first message is no
  reply anyone wrote (the live recorder drops it too).
"""

from __future__ import annotations

import time
from array import array
from collections import Counter
from contextlib import suppress
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from tgstats.errors import TgstatsError
from tgstats.store.bounds import EARLIEST, FUTURE_SLACK, MAX_ID, check_date, check_id
from tgstats.store.cleaning import clean_text
from tgstats.store.counting import is_command_text
from tgstats.store.queries import UserInfo
from tgstats.store.stickers import sticker_emoji

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
# A venue's name and address; Telegram Desktop leaves out location_information
# when the venue has no coordinates.
_VENUE_KEYS = ("place_name", "address")
_ANY_MEDIA_KEY = frozenset(
    {
        "media_type",
        "location_information",
        "file",
        *_VENUE_KEYS,
        *(key for key, _ in _MEDIA_KEYS),
    }
)
# Record types that are skipped and counted (``unsupported``: media Telegram
# Desktop itself could not export).
SKIPPED_TYPES = ("service", "unsupported")


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
    raise ExportFormatError(f"chat {export_id}: {unknown_type(chat_type)}")


def unknown_type(chat_type: str | None) -> str:
    """What is wrong with a chat type bot_api_chat_id does not know."""
    known = ", ".join(sorted(_CHANNEL_TYPES | _GROUP_TYPES | PRIVATE_TYPES))
    return f"unknown chat type {chat_type!r}; expected one of {known} (or pass --chat-id)"


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
    if "place_name" in msg or "address" in msg:
        return "venue"
    if "location_information" in msg:
        return "location"
    if "file" in msg:
        return "document"
    return None


@attrs.define
class ChatStats:
    """What happened to one chat's messages while converting."""

    messages: int = 0
    skipped: Counter[str] = attrs.Factory(Counter)  # record type -> how many
    migrated_from: str | None = None  # title of the basic group this supergroup came from
    topics: int = 0  # forum topics seen (topic_created)
    foreign_replies: int = 0  # replies to a message of another chat (not linked)

    @property
    def service(self) -> int:
        return self.skipped["service"]


class _ThreadMap:
    """message id -> forum topic id, in 8 bytes per id of the pages touched.

    A dict would cost ~100 bytes per message; ids of a chat are dense, so
    pages of 1,024 slots stay small for any chat size.
    """

    _SHIFT = 10

    def __init__(self) -> None:
        self._pages: dict[int, array[int]] = {}

    def __bool__(self) -> bool:
        return bool(self._pages)

    def get(self, message_id: int) -> int | None:
        page = self._pages.get(message_id >> self._SHIFT)
        if page is None:
            return None
        return page[message_id & 1023] or None

    def set(self, message_id: int, topic: int) -> None:
        key = message_id >> self._SHIFT
        page = self._pages.get(key)
        if page is None:
            page = self._pages[key] = array("q", bytes(8 << self._SHIFT))
        page[message_id & 1023] = topic


class MessageConverter:
    """Converts one chat's messages; remembers the senders it saw."""

    def __init__(
        self,
        chat_id: int,
        tz: ZoneInfo,
        *,
        export_id: int | None = None,
        chat_type: str | None = None,
    ) -> None:
        """``export_id``/``chat_type``: the chat as the export names it (its bare id),
        to recognise the chat itself in numeric ``from_id`` and ``reply_to_peer_id``."""
        self.chat_id = chat_id
        self.tz = tz
        self.stats = ChatStats()
        # Dates Telegram can produce end a day from now (see tgstats.store.bounds).
        self._latest = int(time.time()) + FUTURE_SLACK
        self.users: dict[int, UserInfo] = {}
        self._pending_users: dict[int, UserInfo] = {}
        self._senders: dict[Any, int] = {}  # from_id -> stored id
        self._export_id = export_id
        self._chat_type = chat_type
        # The chat itself as a sender or reply target, as newer exports name it.
        self._own_id: int | None = None
        if export_id is not None and chat_type not in PRIVATE_TYPES:
            with suppress(ExportFormatError):  # an unknown type imported with --chat-id
                self._own_id = bot_api_chat_id(export_id, chat_type)
        self._threads = _ThreadMap()

    def take_new_users(self) -> list[UserInfo]:
        """Senders first seen since the previous call (upserted with each batch)."""
        users = list(self._pending_users.values())
        self._pending_users.clear()
        return users

    def convert(self, msg: Any) -> tuple[Any, ...] | None:
        """The message row for one export message, as ``tgstats.store.bulk.prepare_row``
        makes it, or None for a service message.

        Raises ValueError with a message naming the field; the reader adds the position.
        """
        if not isinstance(msg, dict):
            raise ValueError(f"expected a message object, found {_show(msg)}")
        message_id = msg.get("id")
        if type(message_id) is not int:
            raise ValueError(f"'id': expected an integer, found {_show(message_id)}")
        kind = msg.get("type")
        if kind != "message":
            if kind == "service":
                action = msg.get("action")
                if action == "migrate_from_group":
                    self.stats.migrated_from = str(msg.get("title") or "")
                elif action == "topic_created":
                    self.stats.topics += 1
                    self._threads.set(message_id, message_id)
                elif self._threads and type(msg.get("reply_to_message_id")) is int:
                    self._reply(msg, message_id)  # a pin in a topic is in the topic
            elif kind != "unsupported":
                raise ValueError(f"'type': expected 'message' or 'service', found {_show(kind)}")
            self.stats.skipped[kind] += 1
            return None
        unix = msg.get("date_unixtime")
        if type(unix) is str and unix.isdigit():  # the common case, inlined for speed
            date = int(unix)
        else:
            date = self._unix(msg, "date", "date_unixtime", required=True)  # type: ignore[assignment]
        if not EARLIEST <= date <= self._latest:  # the check itself is rare: inlined bounds first
            check_date(date, "'date_unixtime'")
        if not -MAX_ID <= message_id <= MAX_ID:
            check_id(message_id, "'id'")
        user_id = None
        from_id = msg.get("from_id")
        if from_id is not None:
            known = self._senders.get(from_id) if type(from_id) in (str, int) else None
            if known is None:
                known = self._new_sender(from_id, msg.get("from"))
            user_id = known
        reply_to = msg.get("reply_to_message_id")
        thread_id = None
        if reply_to is not None and (
            self._threads or type(reply_to) is not int or "reply_to_peer_id" in msg
        ):  # the common case (a plain reply outside a forum) needs no call
            reply_to, thread_id = self._reply(msg, message_id)
        raw = msg.get("text", "")
        reactions = msg.get("reactions")
        edited = msg.get("edited_unixtime")
        kind = media_kind(msg)
        self.stats.messages += 1
        text = raw if type(raw) is str else flatten_text(raw)
        # A tuple in the store's column order (tgstats.store.bulk.COLUMNS), dates as
        # Unix seconds, text cleaned: what Batch.add_prepared stores directly.
        # Building MessageRow/datetime objects or dicts only to take them apart
        # again costs about a third of the reader's time.
        return (
            self.chat_id,
            message_id,
            thread_id,
            user_id,
            date,
            clean_text(text) if text else "",
            reply_to,
            kind,
            None if edited is None and "edited" not in msg else self._edit_date(msg),
            0 if reactions is None else _reaction_total(reactions),
            # The live recorder's rule (tgstats.store.counting): a bot command is
            # stored, not counted.  Exports do not say which senders are bots.
            not _starts_with_command(msg, raw),
            None if kind != "sticker" else _sticker_emoji(msg),
        )

    def _reply(self, msg: dict[str, Any], message_id: int) -> tuple[int | None, int | None]:
        """(reply_to_message_id, thread_id) of a message, remembering its topic."""
        reply_to = msg.get("reply_to_message_id")
        if reply_to is None:
            return None, None
        if type(reply_to) is not int:
            raise ValueError(f"'reply_to_message_id': expected an integer, found {_show(reply_to)}")
        peer = msg.get("reply_to_peer_id")
        if peer is not None and not self._is_this_chat(peer, "reply_to_peer_id"):
            # A reply to a message of another chat: the same id here is another message.
            self.stats.foreign_replies += 1
            return None, None
        if not self._threads:
            return reply_to, None
        topic = self._threads.get(reply_to)
        if topic is None:
            return reply_to, None
        self._threads.set(message_id, topic)
        return (None if reply_to == topic else reply_to), topic

    def _is_this_chat(self, peer: Any, key: str) -> bool:
        if isinstance(peer, str):
            try:
                stored, _ = sender_id(peer)
            except ValueError as error:
                raise ValueError(f"{key!r}: {error}") from None
            return stored == self._own_id
        if type(peer) is int:
            return peer == self._export_id
        raise ValueError(f"{key!r}: expected a string like 'channel123', found {_show(peer)}")

    def _new_sender(self, from_id: Any, name: Any) -> int:
        if type(from_id) is int and from_id > 0:
            if from_id == self._export_id and self._own_id is not None:
                # Before 2021 a bare number, and the chat's own id is the chat posting:
                # the sender a newer export calls "channel<id>".
                user_id, is_channel = self._own_id, True
            else:
                user_id, is_channel = from_id, False  # a user, in those exports
        elif isinstance(from_id, str):
            user_id, is_channel = sender_id(from_id)
        elif type(from_id) is int:
            raise ValueError(
                f"'from_id': {from_id} is not a Telegram id (user and chat ids are positive "
                "numbers, or strings like 'user123' in newer exports)"
            )
        else:
            raise ValueError(
                "'from_id': expected a string like 'user123' or a positive number, "
                f"found {_show(from_id)}"
            )
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

    def _edit_date(self, msg: dict[str, Any]) -> int | None:
        edited = self._unix(msg, "edited", "edited_unixtime", required=False)
        if edited is not None:
            check_date(edited, "'edited_unixtime'", now=self._latest - FUTURE_SLACK)
        return edited

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


def _starts_with_command(msg: dict[str, Any], text: Any) -> bool:
    """Whether the message's first entity is a ``bot_command`` at its very start.

    Telegram Desktop lists a message's pieces in order (plain text is a piece
    of type ``plain``), so the first piece is the one at offset 0.
    """
    entities = msg.get("text_entities")
    if not isinstance(entities, list):
        entities = text if isinstance(text, list) else None
    if not entities or not isinstance(entities[0], dict):
        return False
    first = entities[0]
    if first.get("type") != "bot_command":
        return False  # nearly every message: skip flattening its text (import speed)
    piece = first.get("text")
    whole = text if isinstance(text, str) else flatten_text(text)
    offset = 0 if isinstance(piece, str) and whole.startswith(piece) else -1
    return is_command_text(whole, (str(first.get("type")), offset))


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
        # A paid reaction's count is an amount of Telegram Stars, not of people.
        if reaction.get("type") != "paid":
            total += count
    return total


def _sticker_emoji(msg: dict[str, Any]) -> str | None:
    """The export's ``sticker_emoji`` ("😂"), checked as every path checks it
    (tgstats.store.stickers); a forged value names the field."""
    value = msg.get("sticker_emoji")
    try:
        return sticker_emoji(value)
    except ValueError as error:
        raise ValueError(f"'sticker_emoji': {error}: {_show(value)}") from None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
