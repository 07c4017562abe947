"""The read API plugins use; aggregation happens in the database.

Plugins never write SQL: they call these methods, which run the same queries on SQLite and
PostgreSQL.  All methods are synchronous (SQLAlchemy Core) and thread-safe:
plugin commands written as plain ``def`` run in a worker thread.

Times are timezone-aware datetimes (UTC in storage); ``since`` is inclusive,
``until`` exclusive; ``None`` means unbounded.  A naive datetime is an error.

A chat id includes the history of every group that migrated into it (a group
upgraded to a supergroup keeps its statistics).

Local time is exact for any IANA zone (DST, half-hour and 45-minute
offsets): the period is split at the zone's transitions, found with zoneinfo
(``tgstats.store.zones``).  Weekday x hour counts each local hour as one UTC
range with an index range scan; active days apply the offsets per segment in
a CASE expression and count distinct local days in SQL.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from sqlalchemy import BigInteger, ColumnElement, Select, and_, cast, func, or_, select, true
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.selectable import Exists, Join, NamedFromClause

from tgstats.store import bucketed, month_cache, word_periods
from tgstats.store.digest_queries import DigestQueries
from tgstats.store.event_queries import EventQueries
from tgstats.store.member_queries import MemberQueries
from tgstats.store.schema import chat_migrations, chat_usernames, chats, messages, users
from tgstats.store.timeline import TimelineQueries
from tgstats.store.zones import DAY, EPOCH_WEEKDAY, const, local_seconds, offset_segments

__all__ = [
    "ChatInfo",
    "MessageQueries",
    "MessageRow",
    "ReplyPair",
    "UserActivity",
    "UserInfo",
    "chat_family",
    "not_excluded",
    "to_timestamp",
]


@attrs.frozen
class ChatInfo:
    chat_id: int
    title: str | None
    type: str | None
    username: str | None = None  # public @username, without the @ (t.me links)


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
    sticker_emoji: str | None = None  # a sticker's emoji (None: another kind, or not known)


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


# Rows fetched per round trip when streaming (texts, messages, export).
STREAM_BATCH = 2000


def to_timestamp(value: datetime, name: str = "date") -> int:
    """Unix seconds of an aware datetime (rounded up: periods are half-open)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")
    return math.ceil(value.timestamp())


def from_timestamp(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _bounds(since: datetime | None, until: datetime | None) -> tuple[int | None, int | None]:
    low = None if since is None else to_timestamp(since, "since")
    high = None if until is None else to_timestamp(until, "until")
    return low, high


def chat_family(connection: Connection, chat_id: int) -> list[int]:
    """``chat_id`` plus every chat that (transitively) migrated into it."""
    family = [chat_id]
    frontier = [chat_id]
    while frontier:
        found = connection.execute(
            select(chat_migrations.c.old_chat_id).where(chat_migrations.c.new_chat_id.in_(frontier))
        ).scalars()
        frontier = [old for old in found if old not in family]
        family.extend(frontier)
    return family


def not_excluded(column: Any, excluded: Collection[int]) -> ColumnElement[bool]:
    """The one filter every statistic applies: senders the chat's admins excluded
    (``/settings exclude``) are left out; rows without a sender stay.

    Empty (the usual case) adds nothing to the statement, so the query plans
    of chats without exclusions are unchanged."""
    if not excluded:
        return true()
    return or_(column.is_(None), column.not_in(sorted(excluded)))


def _where(
    table: Any,
    family: Sequence[int],
    since: datetime | None,
    until: datetime | None,
    user_id: int | None = None,
    *,
    counted: bool = True,
    excluded: Collection[int] = (),
) -> ColumnElement[bool]:
    """The rows of ``family`` in the period (of one sender), counted ones only unless told,
    without the ``excluded`` senders."""
    chat = table.c.chat_id == family[0] if len(family) == 1 else table.c.chat_id.in_(family)
    conditions: list[ColumnElement[bool]] = [chat]
    if excluded:
        conditions.append(not_excluded(table.c.user_id, excluded))
    if counted:
        conditions.append(table.c.counted.is_(True))
    if since is not None:
        conditions.append(table.c.date >= to_timestamp(since, "since"))
    if until is not None:
        conditions.append(table.c.date < to_timestamp(until, "until"))
    if user_id is not None:
        conditions.append(table.c.user_id == user_id)
    return and_(*conditions)


def _hour_counts(where: ColumnElement[bool], start: int, end: int, offset: int) -> Select[Any]:
    """(utc_hour_start, count) for every local hour between ``start`` and ``end``.

    Within one offset segment each local hour is one UTC range; counting each
    range with an index range scan beats GROUP BY on an expression (which
    makes SQLite sort every row) by several times, and is exact for any offset.
    """
    first = start - (start + offset) % 3600  # local hour containing `start`
    seed = select(cast(const(first), BigInteger).label("t"))
    hours = seed.cte("hours", recursive=True)
    hours = hours.union_all(
        select((hours.c.t + const(3600)).label("t")).where(hours.c.t + const(3600) < const(end))
    )
    date = messages.c.date
    count = (
        select(func.count())
        .where(
            where,
            date >= hours.c.t,
            date < hours.c.t + const(3600),
            date >= const(start),
            date < const(end),
        )
        .scalar_subquery()
    )
    return select(hours.c.t, count)


def _user_info(row: Any) -> UserInfo:
    return UserInfo(
        user_id=row.user_id,
        username=row.username,
        display_name=row.display_name,
        is_channel=bool(row.is_channel),
    )


def _message_row(row: Any) -> MessageRow:
    return MessageRow(
        chat_id=row.chat_id,
        message_id=row.message_id,
        thread_id=row.thread_id,
        user_id=row.user_id,
        date=from_timestamp(row.date),
        text=row.text,
        reply_to_message_id=row.reply_to_message_id,
        media_kind=row.media_kind,
        edit_date=from_timestamp(row.edit_date) if row.edit_date is not None else None,
        reaction_count=row.reaction_count,
        sticker_emoji=row.sticker_emoji,
    )


def _sqlite_batches(connection: Connection, statement: Select[Any]) -> Iterator[list[str]]:
    """One-column rows straight from the sqlite3 cursor, STREAM_BATCH at a time.

    SQLAlchemy's result layer costs about 0.9 s per million rows on top of
    SQLite's own 1.1 s, which is most of the word cloud's headroom on a big
    chat; the statement is still built and compiled by SQLAlchemy (IN lists
    rendered inline), only the fetching bypasses it.
    """
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = [compiled.params[name] for name in compiled.positiontup or ()]
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        while rows := cursor.fetchmany(STREAM_BATCH):
            yield [row[0] for row in rows]
    finally:
        cursor.close()


def _postgres_batches(connection: Connection, statement: Select[Any]) -> Iterator[list[str]]:
    """One-column rows from a psycopg server-side (named) cursor, STREAM_BATCH at a time.

    The PostgreSQL counterpart of _sqlite_batches: the server keeps the
    result and hands it over a batch per round trip, and SQLAlchemy's result
    layer is skipped.
    """
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    dbapi: Any = connection.connection.dbapi_connection  # a psycopg Connection
    cursor = dbapi.cursor(name=f"tgstats_texts_{uuid.uuid4().hex[:12]}")
    try:
        cursor.itersize = STREAM_BATCH
        cursor.execute(str(compiled), compiled.params)
        while rows := cursor.fetchmany(STREAM_BATCH):
            yield [row[0] for row in rows]
    finally:
        cursor.close()


def _wrote_in(family: list[int]) -> Exists:
    """EXISTS: the ``users`` row has a message stored in one of the chats of ``family``."""
    return (
        select(messages.c.user_id)
        .where(messages.c.chat_id.in_(family), messages.c.user_id == users.c.user_id)
        .exists()
    )


class MessageQueries(EventQueries, TimelineQueries, MemberQueries, DigestQueries):
    """Read-only queries over one database (events: :mod:`tgstats.store.event_queries`;
    activity over time: :mod:`tgstats.store.timeline`; one member:
    :mod:`tgstats.store.member_queries`; word counts: :mod:`tgstats.store.digest_queries`)."""

    def __init__(
        self, engine: Engine, *, excluded: Callable[[int], Collection[int]] | None = None
    ) -> None:
        self._engine = engine
        # chat id -> the senders its admins excluded (tgstats.store.chat_settings).
        self._excluded = excluded or (lambda _chat_id: frozenset())

    def _stream(self, statement: Select[Any]) -> Iterator[Any]:
        # yield_per streams in batches (a server-side cursor on PostgreSQL);
        # the connection stays checked out only while the caller iterates.
        with self._engine.connect() as connection:
            result = connection.execution_options(yield_per=STREAM_BATCH).execute(statement)
            yield from result

    def chat(self, chat_id: int) -> ChatInfo | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(chats, chat_usernames.c.username)
                .select_from(
                    chats.outerjoin(chat_usernames, chat_usernames.c.chat_id == chats.c.chat_id)
                )
                .where(chats.c.chat_id == chat_id)
            ).first()
        if row is None:
            return None
        return ChatInfo(chat_id=row.chat_id, title=row.title, type=row.type, username=row.username)

    def find_user(self, chat_id: int, username: str) -> UserInfo | None:
        """A member of ``chat_id`` by @username (case-insensitive, '@' optional)."""
        name = username.strip().removeprefix("@").lower()
        if not name:
            return None
        with self._engine.connect() as connection:
            member = _wrote_in(chat_family(connection, chat_id))
            row = connection.execute(
                select(users)
                .where(func.lower(users.c.username) == name, member)
                .order_by(users.c.user_id)
                .limit(1)
            ).first()
        return _user_info(row) if row else None

    def member(self, chat_id: int, user_id: int) -> UserInfo | None:
        """A member of ``chat_id`` by user id (one with a message stored there), or None."""
        with self._engine.connect() as connection:
            member = _wrote_in(chat_family(connection, chat_id))
            row = connection.execute(
                select(users).where(users.c.user_id == user_id, member).limit(1)
            ).first()
        return _user_info(row) if row else None

    def messages(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: int | None = None,
        limit: int | None = None,
    ) -> Iterator[MessageRow]:
        """Every stored message (counted or not: see tgstats.store.counting) in date order
        (then message id), streamed."""
        with self._engine.connect() as connection:
            family = chat_family(connection, chat_id)
        statement = (
            select(messages)
            .where(
                _where(
                    messages,
                    family,
                    since,
                    until,
                    user_id,
                    counted=False,
                    excluded=self._excluded(chat_id),
                )
            )
            .order_by(messages.c.date, messages.c.message_id)
        )
        if limit is not None:
            statement = statement.limit(limit)
        for row in self._stream(statement):
            yield _message_row(row)

    def count_messages(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: int | None = None,
    ) -> int:
        with self._engine.connect() as connection:
            family = chat_family(connection, chat_id)
            where = _where(
                messages,
                family,
                since,
                until,
                user_id,
                counted=False,
                excluded=self._excluded(chat_id),
            )
            statement = select(func.count()).where(where)
            return int(connection.execute(statement).scalar_one())

    def _span(self, connection: Connection, where: ColumnElement[bool]) -> tuple[int, int] | None:
        # Two statements: SQLite answers min and max in one SELECT with a full scan.
        lo = connection.execute(select(func.min(messages.c.date)).where(where)).scalar()
        if lo is None:
            return None
        hi = connection.execute(select(func.max(messages.c.date)).where(where)).scalar_one()
        return int(lo), int(hi)

    def counts_by_weekday_hour(
        self,
        chat_id: int,
        *,
        tz: ZoneInfo,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: int | None = None,
    ) -> list[list[int]]:
        """7x24 matrix [weekday Monday=0][hour] of message counts in ``tz``.

        Exact across DST changes and for any offset: read from the 15-minute
        aggregates (tgstats.store.bucketed); a period bounded off a 15-minute
        boundary counts each local hour in SQL as a UTC range (an index range
        scan) of the messages instead.
        """
        low, high = _bounds(since, until)
        with self._engine.connect() as connection:
            family = chat_family(connection, chat_id)
            excluded = self._excluded(chat_id)
            if bucketed.aligned(low, high):
                return bucketed.weekday_hour(connection, family, tz, low, high, user_id, excluded)
        grid = [[0] * 24 for _ in range(7)]
        with self._engine.connect() as connection:
            where = _where(messages, family, since, until, user_id, excluded=excluded)
            span = self._span(connection, where)
            if span is None:
                return grid
            segments = offset_segments(tz, *span)
            ends = [start for start, _ in segments[1:]] + [span[1] + 1]
            for (start, offset), end in zip(segments, ends, strict=True):
                for hour_start, count in connection.execute(
                    _hour_counts(where, start, end, offset)
                ):
                    if count:
                        local = int(hour_start) + offset
                        weekday = (local // DAY + EPOCH_WEEKDAY) % 7
                        grid[weekday][(local % DAY) // 3600] += int(count)
        return grid

    def texts(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: int | None = None,
    ) -> Iterator[str]:
        """Non-empty message texts, streamed in batches (never all rows at once)."""
        for batch in self.text_batches(chat_id, since=since, until=until, user_id=user_id):
            yield from batch

    def text_batches(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: int | None = None,
    ) -> Iterator[Sequence[str]]:
        """The same texts as :meth:`texts`, as sequences of up to STREAM_BATCH.

        For consumers that work on many texts at once (the word cloud joins
        each batch and splits it in one call): handing over the driver's
        batches saves re-slicing a million-item stream in Python.
        """
        with self._engine.connect() as connection:
            family = chat_family(connection, chat_id)
        statement = select(messages.c.text).where(
            _where(messages, family, since, until, user_id, excluded=self._excluded(chat_id)),
            messages.c.text != "",
        )
        with self._engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                yield from _sqlite_batches(connection, statement)
                return
            yield from _postgres_batches(connection, statement)

    def _replies(
        self,
        family: Sequence[int],
        since: datetime | None,
        until: datetime | None,
        excluded: Collection[int] = (),
    ) -> tuple[NamedFromClause, NamedFromClause, Join, ColumnElement[bool]]:
        """(reply, parent) aliases joined, replies in the period, self-replies excluded."""
        reply = messages.alias("reply")
        parent = messages.alias("parent")
        joined = reply.join(
            parent,
            and_(
                parent.c.chat_id == reply.c.chat_id,
                parent.c.message_id == reply.c.reply_to_message_id,
            ),
        )
        where = and_(
            _where(reply, family, since, until, excluded=excluded),
            reply.c.reply_to_message_id.is_not(None),
            # Also drops NULL senders on either side (NULL != x is not true).
            parent.c.user_id != reply.c.user_id,
            not_excluded(parent.c.user_id, excluded),
        )
        return reply, parent, joined, where

    def reply_pairs(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[ReplyPair]:
        """Who replied to whom how often (replies dated in the period; no self-replies).

        Sorted by count descending, then by the two user ids.
        """
        low, high = _bounds(since, until)
        with self._engine.connect() as connection:
            family = chat_family(connection, chat_id)
            excluded = self._excluded(chat_id)
            if bucketed.aligned(low, high):
                rows: Sequence[Any] = bucketed.reply_counts(
                    connection, family, low, high, by_sender=True, excluded=excluded
                )
            else:
                rows = self._reply_rows(connection, family, since, until, excluded)
        pairs = [ReplyPair(from_user_id=a, to_user_id=b, count=int(n)) for a, b, n in rows]
        pairs.sort(key=lambda p: (-p.count, p.from_user_id, p.to_user_id))
        return pairs

    def _reply_rows(
        self,
        connection: Connection,
        family: Sequence[int],
        since: datetime | None,
        until: datetime | None,
        excluded: Collection[int],
    ) -> Sequence[Any]:
        reply, parent, joined, where = self._replies(family, since, until, excluded)
        count = func.count().label("n")
        return connection.execute(
            select(bucketed.unordered(reply.c.user_id), bucketed.unordered(parent.c.user_id), count)
            .select_from(joined)
            .where(where)
            .group_by(bucketed.unordered(parent.c.user_id), bucketed.unordered(reply.c.user_id))
        ).all()

    def user_activity(
        self,
        chat_id: int,
        *,
        tz: ZoneInfo,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[UserActivity]:
        """Per-sender aggregates over the period, most messages first (ties: user id).

        ``reactions_received`` sums the reaction counts of the user's messages
        sent in the period; ``replies_received`` counts replies sent in the
        period by other users; users who only received replies are included
        with zero messages.
        """
        low, high = _bounds(since, until)
        with self._engine.connect() as connection:
            family = chat_family(connection, chat_id)
            excluded = self._excluded(chat_id)
            received: dict[int, int]
            if bucketed.aligned(low, high) and family == [chat_id]:
                # Whole local months from the cache, the rest exact.
                stats, received = month_cache.engagement(
                    connection, chat_id, tz, low, high, excluded
                )
            elif bucketed.aligned(low, high):
                stats = bucketed.member_activity(connection, family, tz, low, high, excluded)
                received = {
                    row[0]: row[1]
                    for row in bucketed.reply_counts(
                        connection, family, low, high, by_sender=False, excluded=excluded
                    )
                }
            else:
                stats, received = self._activity_scan(
                    connection, family, tz, since, until, excluded
                )
            ids = sorted(set(stats) | set(received))
            infos: dict[int, UserInfo] = {}
            for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
                chunk = ids[start : start + 500]
                for row in connection.execute(select(users).where(users.c.user_id.in_(chunk))):
                    infos[row.user_id] = _user_info(row)
        result = []
        for uid in ids:
            n, days, reactions = stats.get(uid, (0, 0, 0))
            user = infos.get(uid) or UserInfo(user_id=uid, username=None, display_name=str(uid))
            result.append(
                UserActivity(
                    user=user,
                    messages=n,
                    replies_received=int(received.get(uid, 0)),
                    reactions_received=reactions,
                    active_days=days,
                )
            )
        result.sort(key=lambda a: (-a.messages, a.user.user_id))
        return result

    def _activity_scan(
        self,
        connection: Connection,
        family: Sequence[int],
        tz: ZoneInfo,
        since: datetime | None,
        until: datetime | None,
        excluded: Collection[int],
    ) -> tuple[dict[int, tuple[int, int, int]], dict[int, int]]:
        """user_activity's numbers from the messages (a period off the bucket grid)."""
        where = and_(
            _where(messages, family, since, until, excluded=excluded),
            messages.c.user_id.is_not(None),
        )
        span = self._span(connection, where)
        if span is None:
            return {}, {}
        day = local_seconds(messages.c.date, tz, *span) // const(DAY)
        own = connection.execute(
            select(
                messages.c.user_id,
                func.count(),
                func.count(day.distinct()),
                func.coalesce(func.sum(messages.c.reaction_count), 0),
            )
            .where(where)
            .group_by(messages.c.user_id)
        ).all()
        _, parent, joined, reply_where = self._replies(family, since, until, excluded)
        received = dict(
            connection.execute(
                select(bucketed.unordered(parent.c.user_id), func.count())
                .select_from(joined)
                .where(reply_where)
                .group_by(bucketed.unordered(parent.c.user_id))
            ).all()
        )
        stats = {uid: (int(n), int(days), int(reactions)) for uid, n, days, reactions in own}
        return stats, {int(k): int(v) for k, v in received.items()}

    def word_counts(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: int | None = None,
    ) -> dict[str, int]:
        """How often each word was written in the period (counted messages only).

        Words as tgstats.store.words splits them: case-folded, URLs, mentions and
        commands left out, emoji included, no tokens with digits.  Stop words and
        lengths are the caller's to filter.  Read from the per-day word
        aggregates, so the cost follows the number of distinct words per day.
        """
        low, high = _bounds(since, until)
        with self._engine.connect() as connection:
            family = chat_family(connection, chat_id)
            excluded = self._excluded(chat_id)
            return dict(word_periods.word_counts(connection, family, low, high, user_id, excluded))

    def sample_texts(
        self,
        chat_id: int,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: int | None = None,
        limit: int = 3000,
    ) -> list[str]:
        """Up to ``limit`` of the newest non-empty texts of the period (language detection)."""
        with self._engine.connect() as connection:
            family = chat_family(connection, chat_id)
            statement = (
                select(messages.c.text)
                .where(
                    _where(
                        messages, family, since, until, user_id, excluded=self._excluded(chat_id)
                    ),
                    messages.c.text != "",
                )
                .order_by(messages.c.date.desc())
                .limit(max(0, limit))
            )
            return list(connection.execute(statement).scalars())
