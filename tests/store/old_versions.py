"""Turn a fresh store back into what an older tgstats left, for the migration tests."""

from __future__ import annotations

import sqlalchemy
from sqlalchemy.engine import Connection

__all__ = ["undo_version_4"]


def undo_version_4(connection: Connection) -> None:
    """Schema version 3: no ``sticker_emoji`` column and no member card partial indexes
    (the DDL tgstats 3 ran; its own version number is the caller's to set)."""
    for name in ("ix_messages_member_stickers", "ix_messages_member_replies"):
        connection.execute(sqlalchemy.text(f"DROP INDEX {name}"))
    connection.execute(sqlalchemy.text("ALTER TABLE messages DROP COLUMN sticker_emoji"))
