"""Turn a fresh store back into what an older tgstats left, for the migration tests."""

from __future__ import annotations

import sqlalchemy
from sqlalchemy.engine import Connection

__all__ = [
    "as_version",
    "undo_version_5",
    "undo_version_6",
    "undo_version_7",
    "undo_version_8",
    "undo_version_9",
]


def undo_version_9(connection: Connection) -> None:
    """Schema version 8: no count index on the member words (the caller sets
    the version number)."""
    connection.execute(sqlalchemy.text("DROP INDEX ix_agg_member_words_count"))


def undo_version_8(connection: Connection) -> None:
    """Schema version 7: no word totals, no count or length indexes on the
    word tables (the caller sets the version number)."""
    undo_version_9(connection)
    connection.execute(sqlalchemy.text("DROP TABLE agg_word_totals"))
    connection.execute(sqlalchemy.text("DROP TABLE agg_chat_word_days"))
    for name in (
        "ix_agg_word_spans_count",
        "ix_agg_member_word_spans_count",
        "ix_agg_chat_words_length",
        "ix_agg_chat_words_odd",
    ):
        connection.execute(sqlalchemy.text(f"DROP INDEX {name}"))


def undo_version_7(connection: Connection) -> None:
    """Schema version 6: no per-member word spans (the caller sets the version number)."""
    undo_version_8(connection)
    connection.execute(sqlalchemy.text("DROP TABLE agg_member_word_spans"))


def undo_version_6(connection: Connection) -> None:
    """Schema version 5: no cached engagement months (the caller sets the version number)."""
    undo_version_7(connection)
    connection.execute(sqlalchemy.text("DROP TABLE cache_member_months"))


def undo_version_5(connection: Connection) -> None:
    """Schema version 4: no ``sticker_emoji`` column and no member card partial indexes
    (the caller sets the version number)."""
    undo_version_6(connection)
    for name in ("ix_messages_member_stickers", "ix_messages_member_replies"):
        connection.execute(sqlalchemy.text(f"DROP INDEX {name}"))
    connection.execute(sqlalchemy.text("ALTER TABLE messages DROP COLUMN sticker_emoji"))


def as_version(url: str, version: int) -> None:
    """Turn the fresh store at ``url`` into what schema ``version`` (4 to 8)
    left, version number included, for the next open to upgrade."""
    undo = {
        8: undo_version_9,
        7: undo_version_8,
        6: undo_version_7,
        5: undo_version_6,
        4: undo_version_5,
    }[version]
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        undo(connection)
        connection.execute(
            sqlalchemy.text("UPDATE tgstats_schema_version SET version = :v"), {"v": version}
        )
    engine.dispose()
