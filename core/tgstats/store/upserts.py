"""Dialect-specific INSERT ... ON CONFLICT statements (SQLite and PostgreSQL).

Both dialects spell it the same way in SQLAlchemy but through different
``insert`` constructs; this module picks the right one so the rest of the
store writes one statement for both.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from tgstats.errors import StoreError
from tgstats.store.schema import chat_usernames, chats, messages, users

__all__ = [
    "insert_ignore",
    "insert_new_user_rows",
    "upsert",
    "upsert_chat_rows",
    "upsert_message",
    "upsert_user_rows",
]


# Statements are built once per dialect and reused: constructing an upsert
# (with its `excluded` proxies) costs more than executing it on SQLite, and
# the recorder runs one per burst of messages, often a single one.


def _insert_for(name: str, table: Table) -> Any:
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise StoreError(f"unsupported database dialect {name!r}: use sqlite or postgresql")


@functools.cache
def _insert_ignore(name: str, table: Table) -> Any:
    return _insert_for(name, table).on_conflict_do_nothing()


def insert_ignore(connection: Connection, table: Table) -> Any:
    """INSERT that silently skips rows whose primary key already exists."""
    return _insert_ignore(connection.dialect.name, table)


@functools.cache
def _upsert(name: str, table: Table, update: tuple[str, ...]) -> Any:
    stmt = _insert_for(name, table)
    keys = [c.name for c in table.primary_key.columns]
    return stmt.on_conflict_do_update(
        index_elements=keys, set_={column: stmt.excluded[column] for column in update}
    )


def upsert(connection: Connection, table: Table, update: list[str]) -> Any:
    """INSERT that overwrites ``update`` columns of an existing row with the new values."""
    return _upsert(connection.dialect.name, table, tuple(update))


def upsert_chat_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Chats' titles and types; and their usernames where a row carries the key
    (None clears one: the group went private; rows without it keep what is stored)."""
    if not rows:
        return
    connection.execute(
        upsert(connection, chats, ["title", "type"]),
        [{"chat_id": r["chat_id"], "title": r["title"], "type": r["type"]} for r in rows],
    )
    names = [{"chat_id": r["chat_id"], "username": r["username"]} for r in rows if "username" in r]
    if names:
        connection.execute(upsert(connection, chat_usernames, ["username"]), names)


def upsert_user_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(
            upsert(connection, users, ["username", "display_name", "is_channel"]), rows
        )


def insert_new_user_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert users not stored yet; a stored user keeps its row (unlike upsert_user_rows)."""
    if rows:
        connection.execute(insert_ignore(connection, users), rows)


# Columns an edit may change.  `counted` too: a message edited into a command
# (or out of one) leaves (or joins) the statistics.  A sticker cannot be
# edited, but an edit may replace a message's media, so its emoji follows
# the media kind.
EDITABLE_COLUMNS = ["text", "media_kind", "edit_date", "counted", "sticker_emoji"]


@functools.cache
def _upsert_message(name: str) -> Any:
    stmt = _insert_for(name, messages)
    new, old = stmt.excluded, messages.c
    return stmt.on_conflict_do_update(
        index_elements=["chat_id", "message_id"],
        set_={column: new[column] for column in EDITABLE_COLUMNS},
        where=new.edit_date.is_not(None)
        & (old.edit_date.is_(None) | (new.edit_date >= old.edit_date)),
    )


def upsert_message(connection: Connection, row: dict[str, Any] | list[dict[str, Any]]) -> None:
    """Insert a message (or a list of them, in order), or apply an edit to the stored one.

    Only a newer edit overwrites: a late duplicate of the original (or an
    older edit delivered out of order) leaves the stored text alone.
    """
    connection.execute(_upsert_message(connection.dialect.name), row)
