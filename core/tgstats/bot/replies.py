"""Turn a plugin's :class:`~tgstats.plugins._api.Reply` into Telegram messages."""

from __future__ import annotations

import functools
import html
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import MessageLimit, ParseMode

from tgstats.plugins import PhotoReply, Reply, TextReply
from tgstats.redaction import redact

__all__ = ["first_text_chunk", "send_reply", "send_to_chat", "split_text"]

# <pre></pre> plus HTML escaping make the wire text longer than the plain
# text; chunk the plain text with room to spare so no chunk is rejected.
_PRE_OVERHEAD = len("<pre></pre>")


def split_text(text: str, limit: int) -> list[str]:
    """Split at line breaks where possible so tables are not cut mid-row."""
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = limit
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text or not chunks:
        chunks.append(text)
    return chunks


def _escaped_chunks(text: str) -> list[str]:
    limit = MessageLimit.MAX_TEXT_LENGTH - _PRE_OVERHEAD
    out: list[str] = []
    for chunk in split_text(text, limit):
        escaped = html.escape(chunk, quote=False)
        # Escaping can grow a chunk past the limit (&amp; is 5 characters):
        # re-split the escaped-size overflow on the plain text.
        while len(escaped) > limit:
            chunk_a, chunk = chunk[: len(chunk) // 2], chunk[len(chunk) // 2 :]
            out.append(html.escape(chunk_a, quote=False))
            escaped = html.escape(chunk, quote=False)
        out.append(escaped)
    return out


def first_text_chunk(reply: TextReply) -> tuple[str, str | None]:
    """The text (and parse mode) of the one message an edit can make of ``reply``.

    An edit replaces one message, so a text past Telegram's 4,096 characters
    keeps its first chunk (a plugin's button answer is a short table).
    """
    if reply.monospace:
        return f"<pre>{_escaped_chunks(redact(reply.text))[0]}</pre>", ParseMode.HTML
    text = redact(reply.text) if reply.text.strip() else "(empty answer)"
    return split_text(text, MessageLimit.MAX_TEXT_LENGTH)[0], None


async def send_reply(
    message: Message, reply: Reply, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Answer ``message`` in its chat (and forum topic) with ``reply``.

    (:func:`send_to_chat` posts one without a message to answer.)

    Text is redacted on its way out: an admin's reload report or a plugin's
    answer may quote an error that quotes a request URL.  The inline keyboard
    ``markup`` goes under the picture, or under the last message of a text
    split in several.
    """
    await _deliver(message.reply_text, message.reply_photo, reply, markup)


async def send_to_chat(
    bot: Bot, chat_id: int, reply: Reply, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Post ``reply`` in ``chat_id`` on the bot's own initiative (a scheduled job)."""
    await _deliver(
        functools.partial(bot.send_message, chat_id),
        functools.partial(bot.send_photo, chat_id),
        reply,
        markup,
    )


async def _deliver(
    send_text: Callable[..., Awaitable[Any]],
    send_photo: Callable[..., Awaitable[Any]],
    reply: Reply,
    markup: InlineKeyboardMarkup | None,
) -> None:
    if isinstance(reply, PhotoReply):
        caption = redact(reply.caption)[: MessageLimit.CAPTION_LENGTH] or None
        await send_photo(photo=reply.png, caption=caption, reply_markup=markup)
        return
    assert isinstance(reply, TextReply)
    if reply.monospace:
        chunks = [f"<pre>{chunk}</pre>" for chunk in _escaped_chunks(redact(reply.text))]
        mode: str | None = ParseMode.HTML
    else:
        text = redact(reply.text) if reply.text.strip() else "(empty answer)"
        chunks, mode = split_text(text, MessageLimit.MAX_TEXT_LENGTH), None
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        await send_text(chunk, parse_mode=mode, reply_markup=markup if last else None)
