"""telegram.Message -> store rows (pure functions; writing happens in database.py).

What the recorder keeps of a message: who sent it (a user, or a channel /
anonymous admin posting as a chat, marked ``is_channel``), when (UTC unix
seconds), the text or caption with hidden link targets made visible, the
message it replies to, its thread, its media kind (and a sticker's emoji) and
its edit time.
Service messages (members joining, pins, title changes ...) are not messages
people wrote and are not stored.
"""

from __future__ import annotations

from typing import Any

import attrs
import telegram
from telegram.constants import MessageEntityType

from tgstats.store.cleaning import clean_text
from tgstats.store.counting import counts_as_chat
from tgstats.store.queries import ChatInfo, UserInfo
from tgstats.store.stickers import sticker_emoji

__all__ = ["MEDIA_KINDS", "RecordedMessage", "flatten_text", "media_kind", "to_record"]

# Checked in this order: an animation also carries a `document`, a venue a
# `location`, so the more specific kind comes first.
MEDIA_KINDS: tuple[str, ...] = (
    "sticker",
    "photo",
    "animation",
    "video",
    "video_note",
    "voice",
    "audio",
    "document",
    "poll",
    "venue",
    "location",
    "contact",
    "dice",
    "game",
    "story",
    "paid_media",
    "invoice",
    "giveaway",
    "checklist",
)


@attrs.frozen
class RecordedMessage:
    chat: ChatInfo
    sender: UserInfo | None
    row: dict[str, Any]  # column -> value for the messages table


def media_kind(message: telegram.Message) -> str | None:
    for kind in MEDIA_KINDS:
        if getattr(message, kind, None):
            return kind
    return None


def flatten_text(text: str | None, entities: tuple[telegram.MessageEntity, ...] = ()) -> str:
    """Plain text of a message: hidden link targets are appended as ``label (url)``.

    Entity offsets count UTF-16 code units (Telegram's convention), so the
    text is sliced in UTF-16 to place the URL right after its label.
    """
    if not text:
        return ""
    links = [e for e in entities if e.type == MessageEntityType.TEXT_LINK and e.url]
    if not links:
        return text
    encoded = text.encode("utf-16-le")
    pieces: list[str] = []
    cursor = 0
    for entity in sorted(links, key=lambda e: e.offset + e.length):
        end = (entity.offset + entity.length) * 2
        if end < cursor:
            continue  # overlapping/nested entities: keep the first placement
        label = encoded[entity.offset * 2 : end].decode("utf-16-le", errors="replace")
        pieces.append(encoded[cursor:end].decode("utf-16-le", errors="replace"))
        if label.strip() != entity.url:
            pieces.append(f" ({entity.url})")
        cursor = end
    pieces.append(encoded[cursor:].decode("utf-16-le", errors="replace"))
    return "".join(pieces)


def _sticker_emoji(message: telegram.Message) -> str | None:
    sticker = message.sticker
    if sticker is None:
        return None
    try:
        return sticker_emoji(sticker.emoji)
    except ValueError:
        return None  # forged: the message is kept, as a sticker without an emoji


def chat_info(chat: telegram.Chat) -> ChatInfo:
    title = chat.effective_name
    return ChatInfo(
        chat_id=chat.id,
        title=clean_text(title) if title else title,
        type=str(chat.type),
        username=chat.username,
    )


def sender_info(message: telegram.Message) -> UserInfo | None:
    # sender_chat wins: for automatic forwards from a linked channel from_user
    # is the placeholder "Telegram" account, for anonymous admins "GroupAnonymousBot".
    if message.sender_chat is not None:
        chat = message.sender_chat
        return UserInfo(
            user_id=chat.id,
            username=chat.username,
            display_name=clean_text(chat.effective_name or str(chat.id)),
            is_channel=True,
        )
    user = message.from_user
    if user is None:
        return None
    return UserInfo(
        user_id=user.id, username=user.username, display_name=clean_text(user.full_name)
    )


def _reply_to(message: telegram.Message) -> int | None:
    reply = message.reply_to_message
    if reply is None:
        return None
    # In forum topics every message "replies" to the topic's creation message;
    # that is not a reply anyone wrote.
    if message.is_topic_message and reply.message_id == message.message_thread_id:
        return None
    return reply.message_id


def is_content(message: telegram.Message) -> bool:
    """True for messages people wrote (text, caption or media), not service messages."""
    return bool(message.text or message.caption or media_kind(message))


def to_record(message: telegram.Message) -> RecordedMessage:
    sender = sender_info(message)
    if message.text is not None:
        text = flatten_text(message.text, message.entities)
    else:
        text = flatten_text(message.caption, message.caption_entities)
    row = {
        "chat_id": message.chat.id,
        "message_id": message.message_id,
        "thread_id": message.message_thread_id,
        "user_id": sender.user_id if sender else None,
        "date": int(message.date.timestamp()),
        "text": clean_text(text),
        "reply_to_message_id": _reply_to(message),
        "media_kind": media_kind(message),
        "edit_date": int(message.edit_date.timestamp()) if message.edit_date else None,
        "counted": counts_as_chat(message),
        "sticker_emoji": _sticker_emoji(message),
    }
    return RecordedMessage(chat=chat_info(message.chat), sender=sender, row=row)
