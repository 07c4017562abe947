"""The read API plugins use; aggregation happens in the database.

CONTRACT (implementation owned by the message-store work).  Plugins never
write SQL: they call these methods, which run the same queries on SQLite and
PostgreSQL.  All methods are synchronous (SQLAlchemy Core) and thread-safe:
plugin commands written as plain ``def`` run in a worker thread.

Times are timezone-aware datetimes (UTC in storage); ``since`` is inclusive,
``until`` exclusive; ``None`` means unbounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import attrs

__all__ = ["ChatInfo", "MessageQueries", "MessageRow", "ReplyPair", "UserActivity", "UserInfo"]


@attrs.frozen
class ChatInfo:
    chat_id: int
    title: str | None
    type: str | None


@attrs.frozen
class UserInfo:
    user_id: int
    username: str | None
    display_name: str
    is_channel: bool = False  # a channel posting in the group (imports)


@attrs.frozen
class MessageRow:
    chat_id: int
    message_id: int
    thread_id: int | None
    user_id: int | None
    date: datetime
    text: str
    reply_to_message_id: int | None
    media_kind: str | None
    edit_date: datetime | None
    reaction_count: int


@attrs.frozen
class ReplyPair:
    from_user_id: int  # who replied
    to_user_id: int  # whose message was replied to
    count: int


@attrs.frozen
class UserActivity:
    """Per-user aggregates over a period (the engagement plugin's input)."""

    user: UserInfo
    messages: int
    replies_received: int  # replies by *other* users to this user's messages
    reactions_received: int
    active_days: int  # distinct calendar days (in the given zone) with a message


class MessageQueries:
    """Read-only queries over one database."""

    def chat(self, chat_id: int) -> ChatInfo | None: ...

    def find_user(self, chat_id: int, username: str) -> UserInfo | None:
        """A member of ``chat_id`` by @username (case-insensitive, '@' optional)."""
        ...

    def messages(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: int | None = None,
        limit: int | None = None,
    ) -> Iterator[MessageRow]: ...

    def count_messages(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: int | None = None,
    ) -> int: ...

    def counts_by_weekday_hour(
        self,
        chat_id: int,
        *,
        tz: ZoneInfo,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: int | None = None,
    ) -> list[list[int]]:
        """7x24 matrix [weekday Monday=0][hour] of message counts in ``tz``
        (DST-correct: grouped by UTC 15-minute buckets in SQL, converted in Python)."""
        ...

    def texts(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: int | None = None,
    ) -> Iterator[str]:
        """Non-empty message texts, streamed in batches (never all rows at once)."""
        ...

    def reply_pairs(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[ReplyPair]: ...

    def user_activity(
        self,
        chat_id: int,
        *,
        tz: ZoneInfo,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[UserActivity]: ...
