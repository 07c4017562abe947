"""Bulk writes for the importer: one transaction, executemany, idempotent inserts.

``add_messages`` inserts with ON CONFLICT DO NOTHING on (chat_id, message_id),
so importing the same export twice adds nothing the second time, and rows of
senders who opted out in that chat are dropped before they reach the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from tgstats.errors import StoreError
from tgstats.store.queries import ChatInfo, MessageRow, UserInfo, to_timestamp
from tgstats.store.schema import chat_migrations, chats, messages, opt_outs
from tgstats.store.upserts import insert_ignore, upsert_chat_rows, upsert_user_rows

__all__ = ["Batch"]

_COLUMNS = (
    "chat_id",
    "message_id",
    "thread_id",
    "user_id",
    "date",
    "text",
    "reply_to_message_id",
    "media_kind",
    "edit_date",
    "reaction_count",
)


def _timestamp(value: Any, what: str) -> int | None:
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return to_timestamp(value, what)
    raise StoreError(f"{what}: expected a timezone-aware datetime or unix seconds, got {value!r}")


def _row(message: MessageRow | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(message, MessageRow):
        source: Mapping[str, Any] = {name: getattr(message, name) for name in _COLUMNS}
    else:
        source = message
    where = f"message {source.get('chat_id')}/{source.get('message_id')}"
    row = {name: source.get(name) for name in _COLUMNS}
    row["date"] = _timestamp(row["date"], f"{where}: date")
    row["edit_date"] = _timestamp(row["edit_date"], f"{where}: edit_date")
    if row["date"] is None or row["chat_id"] is None or row["message_id"] is None:
        raise StoreError(f"{where}: chat_id, message_id and date are required")
    row["text"] = row["text"] or ""
    row["reaction_count"] = row["reaction_count"] or 0
    return row


class Batch:
    """Writes inside one open transaction (see ``Store.bulk``)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._known_chats: set[int] = set()
        self._opted_out: dict[int, set[int]] = {}

    def upsert_chat(self, chat: ChatInfo) -> None:
        upsert_chat_rows(
            self.connection, [{"chat_id": chat.chat_id, "title": chat.title, "type": chat.type}]
        )
        self._known_chats.add(chat.chat_id)

    def upsert_users(self, users: Iterable[UserInfo]) -> None:
        rows = {
            u.user_id: {
                "user_id": u.user_id,
                "username": u.username,
                "display_name": u.display_name,
                "is_channel": u.is_channel,
            }
            for u in users
        }
        upsert_user_rows(self.connection, sorted(rows.values(), key=lambda r: r["user_id"]))

    def _opted_out_in(self, chat_id: int) -> set[int]:
        """Opted-out senders for a chat, including opt-outs made after it migrated."""
        if chat_id not in self._opted_out:
            targets = [chat_id]
            frontier = [chat_id]
            while frontier:  # follow old -> new migrations forward
                frontier = list(
                    self.connection.execute(
                        select(chat_migrations.c.new_chat_id).where(
                            chat_migrations.c.old_chat_id.in_(frontier)
                        )
                    ).scalars()
                )
                frontier = [c for c in frontier if c not in targets]
                targets.extend(frontier)
            self._opted_out[chat_id] = set(
                self.connection.execute(
                    select(opt_outs.c.user_id).where(opt_outs.c.chat_id.in_(targets))
                ).scalars()
            )
        return self._opted_out[chat_id]

    def _ensure_chats(self, chat_ids: set[int]) -> None:
        missing = chat_ids - self._known_chats
        if missing:
            self.connection.execute(
                insert_ignore(self.connection, chats),
                [{"chat_id": c, "title": None, "type": None} for c in sorted(missing)],
            )
            self._known_chats |= missing

    def add_messages(self, rows: Iterable[MessageRow | Mapping[str, Any]]) -> int:
        """Insert messages not stored yet; return how many were new."""
        prepared = [_row(r) for r in rows]
        if not prepared:
            return 0
        self._ensure_chats({r["chat_id"] for r in prepared})
        kept = [r for r in prepared if r["user_id"] not in self._opted_out_in(r["chat_id"])]
        if not kept:
            return 0
        result = self.connection.execute(insert_ignore(self.connection, messages), kept)
        return int(result.rowcount)
