"""Updates the bot skipped (``rejected_updates``) and commands it answered (``answered_commands``).

Both are small bookkeeping tables beside the messages.  A rejected update is
one python-telegram-bot could not parse, or whose recording raised for a
reason other than a database fault: its raw JSON is kept (capped at
:data:`MAX_RAW_CHARS`) so an operator can see it with ``tgstats rejected``,
and the bot confirms it to Telegram instead of fetching it for ever.
Answered commands are claimed before they are answered
(:func:`claim_command`: an insert only one caller wins, whichever process it
runs in), so a command redelivered after a crash, or to a second webhook
worker while the first is still answering it, is answered at most once; rows
older than :data:`ANSWERED_KEEP_SECONDS` are pruned (Telegram
keeps an unconfirmed update for 24 hours, so older ones never come back).

Plain synchronous functions on an Engine: the bot runs them off the event loop.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import attrs
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from tgstats.store.schema import answered_commands, rejected_updates
from tgstats.store.upserts import insert_ignore

__all__ = [
    "ANSWERED_KEEP_SECONDS",
    "MAX_RAW_CHARS",
    "RejectedUpdate",
    "claim_command",
    "is_answered",
    "keep_rejected",
    "list_rejected",
    "mark_answered",
]

MAX_RAW_CHARS = 65_536
ANSWERED_KEEP_SECONDS = 2 * 24 * 3600
_PRUNE_EVERY = 500  # answered commands between two prunes
_marks = itertools.count()


@attrs.frozen
class RejectedUpdate:
    update_id: int | None
    received_at: int  # unix seconds, UTC
    reason: str
    raw: str


def keep_rejected(engine: Engine, update_id: int | None, raw: str, reason: str) -> bool:
    """Store one rejected update; False if that update id was kept already."""
    if len(raw) > MAX_RAW_CHARS:
        raw = raw[:MAX_RAW_CHARS] + f"... [truncated, {len(raw)} characters]"
    row = {
        "update_id": update_id,
        "received_at": int(time.time()),
        "reason": reason,
        "raw": raw,
    }
    with engine.begin() as connection:
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT that returns the new id.
        inserted = connection.execute(
            insert_ignore(connection, rejected_updates).returning(rejected_updates.c.id), row
        ).first()
    return inserted is not None


def list_rejected(engine: Engine, limit: int | None = None) -> list[RejectedUpdate]:
    """Rejected updates, oldest first (the newest ``limit`` of them if given)."""
    table = rejected_updates
    query = select(table.c.update_id, table.c.received_at, table.c.reason, table.c.raw)
    if limit is not None:
        query = query.order_by(table.c.id.desc()).limit(limit)
    with engine.connect() as connection:
        rows = [RejectedUpdate(*row) for row in connection.execute(query)]
    return rows[::-1] if limit is not None else rows


def is_answered(engine: Engine, chat_id: int, message_id: int) -> bool:
    table = answered_commands
    with engine.connect() as connection:
        found = connection.execute(
            select(table.c.chat_id).where(
                table.c.chat_id == chat_id, table.c.message_id == message_id
            )
        ).first()
    return found is not None


def claim_command(engine: Engine, chat_id: int, message_id: int) -> bool:
    """Claim the command (chat_id, message_id) for answering; True for the one caller that wins.

    One INSERT that skips an existing row: the first claim commits the row and
    every later one, from this process or another sharing the database, finds
    it (on PostgreSQL a concurrent claim waits for the first to commit, then
    skips).  Old rows are pruned now and then.
    """
    now = int(time.time())
    table = answered_commands
    row: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id, "answered_at": now}
    with engine.begin() as connection:
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT that returns a row.
        won = connection.execute(
            insert_ignore(connection, table).returning(table.c.chat_id), row
        ).first()
        if next(_marks) % _PRUNE_EVERY == 1:
            connection.execute(
                delete(table).where(table.c.answered_at < now - ANSWERED_KEEP_SECONDS)
            )
    return won is not None


def mark_answered(engine: Engine, chat_id: int, message_id: int) -> None:
    """Remember that the command (chat_id, message_id) was handled (a claim, outcome unused)."""
    claim_command(engine, chat_id, message_id)
