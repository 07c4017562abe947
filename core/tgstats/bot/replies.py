"""Turn a plugin's :class:`~tgstats.plugins._api.Reply` into Telegram messages."""

from __future__ import annotations

import functools
import html
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, Message
from telegram.constants import MessageLimit, ParseMode

from tgstats.plugins import PhotoReply, Reply, TextReply
from tgstats.redaction import redact

__all__ = ["send_reply", "send_to_chat", "split_text"]

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


async def send_reply(message: Message, reply: Reply) -> None:
    """Answer ``message`` in its chat (and forum topic) with ``reply``.

    Text is redacted on its way out: an admin's reload report or a plugin's
    answer may quote an error that quotes a request URL.
    """
    await _deliver(message.reply_text, message.reply_photo, reply)


async def send_to_chat(bot: Bot, chat_id: int, reply: Reply) -> None:
    """Post ``reply`` in ``chat_id`` on the bot's own initiative (a scheduled job)."""
    await _deliver(
        functools.partial(bot.send_message, chat_id),
        functools.partial(bot.send_photo, chat_id),
        reply,
    )


async def _deliver(
    send_text: Callable[..., Awaitable[Any]],
    send_photo: Callable[..., Awaitable[Any]],
    reply: Reply,
) -> None:
    if isinstance(reply, PhotoReply):
        caption = redact(reply.caption)[: MessageLimit.CAPTION_LENGTH] or None
        await send_photo(photo=reply.png, caption=caption)
        return
    assert isinstance(reply, TextReply)
    if reply.monospace:
        for chunk in _escaped_chunks(redact(reply.text)):
            await send_text(f"<pre>{chunk}</pre>", parse_mode=ParseMode.HTML)
        return
    text = redact(reply.text) if reply.text.strip() else "(empty answer)"
    for chunk in split_text(text, MessageLimit.MAX_TEXT_LENGTH):
        await send_text(chunk)
