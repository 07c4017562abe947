"""Bulk writes for the importer: one transaction, executemany, idempotent inserts.

``add_messages`` inserts with ON CONFLICT DO NOTHING on (chat_id, message_id),
so importing the same export twice adds nothing the second time, and rows of
senders who opted out in that chat, or dated before their opt-out's tombstone
(even after /optin), are dropped before they reach the database.

Re-importing a newer export refreshes rows already stored (``start_refresh``
/ ``apply_refresh``): the file's rows are also copied to a temporary table,
and at the end of the chat two set-based UPDATEs take the edits that are
newer than the stored ones and, when the caller says the file is the newer
data, its reaction counts.  Copying only when the chat already had messages
keeps a first import as fast as before.  The same copy fills in the emoji of
stickers stored without one (recorded before schema version 5).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from operator import itemgetter
from typing import Any

import attrs
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from tgstats.errors import StoreError
from tgstats.store.aggregates import (
    AggregateRows,
    Delta,
    Msg,
    added_replies,
    apply_rows,
    changed,
    count_new,
    lock_chats,
    read_ids,
    read_rows,
)
from tgstats.store.cleaning import clean_text
from tgstats.store.queries import ChatInfo, MessageRow, UserInfo, to_timestamp
from tgstats.store.schema import STICKER_KIND, chat_migrations, chats, messages
from tgstats.store.skips import skip_rules
from tgstats.store.stickers import STICKER_EMOJI_MAX, sticker_emoji
from tgstats.store.upserts import (
    insert_ignore,
    insert_new_user_rows,
    upsert_chat_rows,
    upsert_user_rows,
)

__all__ = ["COLUMNS", "Batch", "Refreshed", "count_rows", "prepare_row"]

_REFRESH_TABLE = "tgstats_import_refresh"
# Rows whose aggregate changes are held before they are applied: bounds the
# texts kept in memory (four of the importer's batches).
_DEFERRED = 20_000
# Rows added before the first ANALYZE of an import on PostgreSQL (see Batch).
_ANALYZE_FIRST = 20_000
# The columns a newer export may change, copied to the refresh table.
_REFRESH_COLUMNS = (
    "message_id",
    "text",
    "media_kind",
    "edit_date",
    "reaction_count",
    "sticker_emoji",
)

COLUMNS = (
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
    "counted",
    "sticker_emoji",
)


def _timestamp(value: Any, what: str) -> int | None:
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, datetime):
        try:
            return to_timestamp(value, what)
        except ValueError as error:
            raise StoreError(str(error)) from None
    raise StoreError(f"{what}: expected a timezone-aware datetime or unix seconds, got {value!r}")


def prepare_row(message: MessageRow | Mapping[str, Any]) -> tuple[Any, ...]:
    """One message as a tuple in COLUMNS order, dates as unix seconds, text cleaned:
    what :meth:`Batch.add_prepared` takes (the importer makes them in its reader)."""
    if isinstance(message, MessageRow):
        m = message
        values = [
            m.chat_id,
            m.message_id,
            m.thread_id,
            m.user_id,
            m.date,
            m.text,
            m.reply_to_message_id,
            m.media_kind,
            m.edit_date,
            m.reaction_count,
            True,  # MessageRow carries no commands (see tgstats.store.counting)
            m.sticker_emoji,
        ]
    else:
        values = [message.get(name) for name in COLUMNS]
        if values[10] is None:
            values[10] = True
    chat_id, message_id, date, edit_date = values[0], values[1], values[4], values[8]
    if type(date) is not int or (edit_date is not None and type(edit_date) is not int):
        where = f"message {chat_id}/{message_id}"
        values[4] = date = _timestamp(date, f"{where}: date")
        values[8] = _timestamp(edit_date, f"{where}: edit_date")
    if date is None or chat_id is None or message_id is None:
        raise StoreError(
            f"message {chat_id}/{message_id}: chat_id, message_id and date are required"
        )
    if not values[5]:
        values[5] = ""
    elif type(values[5]) is str:
        values[5] = clean_text(values[5])
    if not values[9]:
        values[9] = 0
    if values[11] is not None:
        try:
            values[11] = sticker_emoji(values[11])
        except ValueError as error:
            raise StoreError(f"message {chat_id}/{message_id}: sticker_emoji: {error}") from None
    return tuple(values)


# user_id, date, text, reaction_count, counted: what count_new reads of a row.
_COUNTED_FIELDS = itemgetter(3, 4, 5, 9, 10)


def _msg(row: tuple[Any, ...]) -> Msg:
    """The aggregates' view of a prepared row."""
    return Msg(row[1], row[3], row[4], row[5], row[6], row[9], bool(row[10]))


def count_rows(chat_id: int, rows: Iterable[tuple[Any, ...]]) -> AggregateRows:
    """The activity and word rows of adding prepared rows of ``chat_id`` if all are
    new (for :meth:`Batch.add_prepared`; the importer makes them in its reader)."""
    return count_new(chat_id, map(_COUNTED_FIELDS, rows))


def _user_rows(users: Iterable[UserInfo]) -> list[dict[str, Any]]:
    """One row per user id (the last one given wins), in id order."""
    rows = {
        user.user_id: {**attrs.asdict(user), "display_name": clean_text(user.display_name or "")}
        for user in users
    }
    return [rows[user_id] for user_id in sorted(rows)]


@attrs.frozen
class Refreshed:
    """Stored rows a re-import changed."""

    edits: int = 0  # newer edits (text, media kind, edit date)
    reactions: int = 0  # reaction counts
    sticker_emoji: int = 0  # stickers stored without their emoji, now with it


class Batch:
    """Writes inside one open transaction (see ``Store.bulk``)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._known_chats: set[int] = set()
        self._skips: dict[int, dict[int, int]] = {}
        # Senders with an opt-out or tombstone and no row kept yet: their users
        # row (name) waits for a kept row, so an import never brings back the
        # name of a member who was erased.
        self._held_users: dict[int, UserInfo] = {}
        self._kept_senders: set[int] = set()
        self._insert_sql: str | None = None
        self._refresh_chat: int | None = None
        self._locked: set[int] = set()
        # The aggregate changes of the rows added so far, applied every
        # _DEFERRED rows and by finish(): a member's day spans several batches of
        # the importer, and adding it up once saves a third of the word rows.
        self._delta = Delta()
        self._pending = 0
        # PostgreSQL plans with the statistics of the last ANALYZE, and nothing
        # this transaction inserts is analysed before it commits: on an empty
        # database the planner took the growing messages table for a few rows
        # and answered each batch's id lookups by reading the whole chat (a
        # 1M-message import ran for many minutes).  ANALYZE in the transaction
        # sees its own rows; it runs as the table doubles (about 0.2 s each).
        self._added = 0
        self._analyze_at = _ANALYZE_FIRST if connection.dialect.name == "postgresql" else -1

    def finish(self) -> None:
        """Apply the aggregate changes still held (Store.bulk calls it before committing)."""
        if self._pending:
            self._delta.apply(self.connection)
            self._delta = Delta()
            self._pending = 0

    def _lock(self, chat_ids: set[int]) -> None:
        """Hold the chats' aggregate lock for the rest of the transaction (see aggregates)."""
        if chat_ids - self._locked:
            lock_chats(self.connection, chat_ids - self._locked)
            self._locked |= chat_ids

    def latest_date(self, chat_id: int) -> int | None:
        """The newest stored message date of the chat (unix seconds), None if it has none."""
        return self.connection.execute(
            select(func.max(messages.c.date)).where(messages.c.chat_id == chat_id)
        ).scalar()

    def _mark(self) -> str:
        return "?" if self.connection.dialect.name == "sqlite" else "%s"

    def start_refresh(self, chat_id: int) -> None:
        """From now on, rows added for ``chat_id`` may update stored ones (apply_refresh)."""
        drop = "ON COMMIT DROP" if self.connection.dialect.name == "postgresql" else ""
        self.connection.exec_driver_sql(
            # No key: the UPDATEs read it once in order and look messages up by theirs.
            f"CREATE TEMPORARY TABLE {_REFRESH_TABLE} (message_id BIGINT, "
            f"text TEXT, media_kind VARCHAR(32), edit_date BIGINT, reaction_count INTEGER, "
            f"sticker_emoji VARCHAR({STICKER_EMOJI_MAX})) {drop}"
        )
        self._refresh_chat = chat_id

    def apply_refresh(self, *, reactions: bool) -> Refreshed:
        """Update the chat's stored rows from the rows added since start_refresh.

        Edits apply when the added row's edit is newer than the stored one (an
        older export never undoes an edit); reaction counts only if
        ``reactions`` (the caller knows whether the file is the newer data).
        """
        chat_id = self._refresh_chat
        if chat_id is None:
            raise StoreError("apply_refresh without start_refresh")
        mark = self._mark()
        target, source = messages.name, _REFRESH_TABLE
        match = f"{target}.chat_id = {mark} AND {target}.message_id = r.message_id"
        newer_edit = (
            f"r.edit_date IS NOT NULL "
            f"AND ({target}.edit_date IS NULL OR r.edit_date > {target}.edit_date)"
        )
        new_count = f"{target}.reaction_count <> r.reaction_count"
        # The rows about to change, as they are, for the aggregates.
        changing = f"({newer_edit}) OR ({new_count})" if reactions else newer_edit
        self._lock({chat_id})
        # Held additions first: a decrease applied before them could take a row
        # below zero, and _add deletes such rows.
        self.finish()
        ids = [
            row[0]
            for row in self.connection.exec_driver_sql(
                f"SELECT DISTINCT r.message_id FROM {source} AS r JOIN {target} "
                f"ON {match} WHERE {changing}",
                (chat_id,),
            )
        ]
        before = read_rows(self.connection, chat_id, ids)
        edits = self.connection.exec_driver_sql(
            f"UPDATE {target} SET text = r.text, media_kind = r.media_kind, "
            f"edit_date = r.edit_date, sticker_emoji = r.sticker_emoji "
            f"FROM {source} AS r WHERE {match} AND {newer_edit}",
            (chat_id,),
        ).rowcount
        # Stickers recorded before the store kept their emoji (no aggregate reads it).
        emoji = self.connection.exec_driver_sql(
            f"UPDATE {target} SET sticker_emoji = r.sticker_emoji FROM {source} AS r "
            f"WHERE {match} AND {target}.media_kind = '{STICKER_KIND}' "
            f"AND {target}.sticker_emoji IS NULL AND r.sticker_emoji IS NOT NULL",
            (chat_id,),
        ).rowcount
        counts = 0
        if reactions:
            counts = self.connection.exec_driver_sql(
                f"UPDATE {target} SET reaction_count = r.reaction_count FROM {source} AS r "
                f"WHERE {match} AND {new_count}",
                (chat_id,),
            ).rowcount
        if before:
            after = read_rows(self.connection, chat_id, ids)
            delta = Delta()
            changed(
                self.connection,
                chat_id,
                {i: before.get(i) for i in before},
                {i: after.get(i) for i in before},
                delta,
            )
            delta.apply(self.connection)
        self.connection.exec_driver_sql(f"DROP TABLE {_REFRESH_TABLE}")
        self._refresh_chat = None
        return Refreshed(edits=int(edits), reactions=int(counts), sticker_emoji=int(emoji))

    def upsert_chat(self, chat: ChatInfo) -> None:
        row = attrs.asdict(chat)
        row["title"] = clean_text(row["title"]) if row["title"] else row["title"]
        if row["username"] is None:
            del row["username"]  # an export does not say: keep the one the bot saw
        upsert_chat_rows(self.connection, [row])
        self._known_chats.add(chat.chat_id)

    def upsert_users(self, users: Iterable[UserInfo]) -> None:
        """Insert the users, overwriting the names of those already stored."""
        upsert_user_rows(self.connection, _user_rows(users))

    def add_users(self, users: Iterable[UserInfo]) -> None:
        """Insert the users not stored yet; a stored user's row is kept as it is.

        For the importer: what the bot recorded is newer than an export, which
        has no @usernames at all.  A sender erased in a chat of this batch is
        held back until one of their rows is kept (see add_messages).
        """
        buried = {user for skips in self._skips.values() for user in skips}
        now = []
        for user in users:
            if user.user_id in buried and user.user_id not in self._kept_senders:
                self._held_users[user.user_id] = user
            else:
                now.append(user)
        insert_new_user_rows(self.connection, _user_rows(now))

    def _skips_in(self, chat_id: int) -> dict[int, int]:
        """Sender -> skip_before for a chat: its opt-outs and tombstones, including those
        made after it migrated (see tgstats.store.skips)."""
        if chat_id not in self._skips:
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
            skips: dict[int, int] = {}
            for (_chat, user_id), skip_before in skip_rules(self.connection, targets).items():
                skips[user_id] = max(skips.get(user_id, 0), skip_before)
            self._skips[chat_id] = skips
        return self._skips[chat_id]

    def _release_users(self, senders: set[int]) -> None:
        self._kept_senders |= senders
        released = [self._held_users.pop(s) for s in senders & self._held_users.keys()]
        if released:
            insert_new_user_rows(self.connection, _user_rows(released))

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
        return self.add_prepared([prepare_row(r) for r in rows])

    def add_prepared(
        self, prepared: list[tuple[Any, ...]], counts: AggregateRows | None = None
    ) -> int:
        """add_messages for rows already made by :func:`prepare_row`.

        ``counts``: :func:`count_rows` of ``prepared``, made ahead (the importer's
        reader process does): added if every row turns out new, else not used.
        """
        if not prepared:
            return 0
        self._ensure_chats({r[0] for r in prepared})
        skips = {chat: self._skips_in(chat) for chat in {r[0] for r in prepared}}
        if any(skips.values()):
            # An opted-out sender's rows, and anything dated before a tombstone.
            kept = [r for r in prepared if r[4] >= skips[r[0]].get(r[3], 0)]
            self._release_users({r[3] for r in kept if r[3] is not None})
        else:
            kept = prepared
        if not kept:
            return 0
        # The driver's own executemany with positional tuples: SQLAlchemy's
        # per-row parameter processing (and on PostgreSQL its multi-VALUES
        # rewrite, which psycopg re-parses per batch) costs more than the
        # database's work.  Both drivers sum rowcount over the batch, and a
        # conflicting row counts zero, so rowcount is the number inserted.
        if self._insert_sql is None:
            mark = self._mark()
            self._insert_sql = (
                f"INSERT INTO {messages.name} ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join([mark] * len(COLUMNS))}) "
                "ON CONFLICT (chat_id, message_id) DO NOTHING"
            )
        self._lock({r[0] for r in kept})
        known: dict[int, set[int]] = {}  # chat -> ids among the rows already stored
        chat = kept[0][0]
        if counts is not None and kept is prepared and all(r[0] == chat for r in kept):
            ids = [r[1] for r in kept]
            known[chat] = set(read_ids(self.connection, chat, ids))
            if not known[chat] and len(set(ids)) == len(ids):
                # Every row is new (a first import): the rows made ahead are exact and
                # only add, so they go in now; the reply pairs need the database.
                added = int(self.connection.exec_driver_sql(self._insert_sql, kept).rowcount)
                apply_rows(self.connection, counts)
                senders = dict(zip(ids, (r[3] for r in kept), strict=True))
                replies = [_msg(r) for r in kept if r[6] is not None]
                added_replies(self.connection, chat, senders, replies, self._delta)
                self._pending += len(replies)
                return self._after_insert(kept, added)
        by_chat: dict[int, dict[int, Msg]] = {}
        for r in kept:
            rows_of_chat = by_chat.setdefault(r[0], {})
            if r[1] not in rows_of_chat:  # a duplicate in the file: the first one is stored
                rows_of_chat[r[1]] = _msg(r)
        stored = {
            chat: known[chat] if chat in known else set(read_ids(self.connection, chat, rows_of))
            for chat, rows_of in by_chat.items()
        }
        added = int(self.connection.exec_driver_sql(self._insert_sql, kept).rowcount)
        for chat, rows_of_chat in by_chat.items():
            new = {i: m for i, m in rows_of_chat.items() if i not in stored[chat]}
            if new:
                changed(self.connection, chat, dict.fromkeys(new), new, self._delta)
                self._pending += len(new)
        return self._after_insert(kept, added)

    def _after_insert(self, kept: list[tuple[Any, ...]], added: int) -> int:
        """Analyze as the table grows, apply the held aggregate changes if they are
        many, copy the rows to refresh."""
        self._added += added
        if 0 <= self._analyze_at <= self._added:
            self.connection.exec_driver_sql(f"ANALYZE {messages.name}")
            self._analyze_at = 2 * self._added
        if self._pending >= _DEFERRED:
            self.finish()
        if self._refresh_chat is not None:
            chat = self._refresh_chat
            # The text only matters with an edit date (see apply_refresh).
            copies = [
                (r[1], r[5] if r[8] is not None else None, r[7], r[8], r[9], r[11])
                for r in kept
                if r[0] == chat
            ]
            if copies:
                mark = self._mark()
                self.connection.exec_driver_sql(
                    f"INSERT INTO {_REFRESH_TABLE} ({', '.join(_REFRESH_COLUMNS)}) "
                    f"VALUES ({', '.join([mark] * len(_REFRESH_COLUMNS))})",
                    copies,
                )
        return added
