"""Stored messages as JSON-ready dicts (``tgstats export`` writes them as JSON Lines)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from tgstats.store.queries import STREAM_BATCH, chat_family
from tgstats.store.schema import messages, users

__all__ = ["export_rows", "iso_utc"]


def iso_utc(ts: int | None) -> str | None:
    """Unix seconds -> ``2026-01-02T03:04:05Z``."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_rows(engine: Engine, chat_id: int | None = None) -> Iterator[dict[str, Any]]:
    """Every stored message (or one chat's, with its pre-migration history),
    ordered by chat, date, message id; streamed, never all in memory."""
    statement = (
        select(
            messages,
            users.c.username,
            users.c.display_name,
            users.c.is_channel,
        )
        .select_from(messages.outerjoin(users, users.c.user_id == messages.c.user_id))
        .order_by(messages.c.chat_id, messages.c.date, messages.c.message_id)
    )
    with engine.connect() as connection:
        if chat_id is not None:
            statement = statement.where(messages.c.chat_id.in_(chat_family(connection, chat_id)))
        result = connection.execution_options(yield_per=STREAM_BATCH).execute(statement)
        for row in result:
            yield {
                "chat_id": row.chat_id,
                "message_id": row.message_id,
                "user_id": row.user_id,
                "date": iso_utc(row.date),
                "text": row.text,
                "thread_id": row.thread_id,
                "reply_to_message_id": row.reply_to_message_id,
                "media_kind": row.media_kind,
                "sticker_emoji": row.sticker_emoji,
                "edit_date": iso_utc(row.edit_date),
                "reaction_count": row.reaction_count,
                "username": row.username,
                "display_name": row.display_name,
                "sender_is_channel": bool(row.is_channel) if row.is_channel is not None else None,
            }
