"""Opening the store (engine, pragmas, schema) and the write side of :class:`Store`.

``open_store(url)`` accepts any SQLAlchemy URL for SQLite or PostgreSQL;
``postgresql://`` is read as psycopg 3.  Failures to reach the database become
one :class:`~tgstats.errors.StoreError` line that never shows the password.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import attrs
import sqlalchemy
import telegram
from sqlalchemy import event, select
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from tgstats.errors import StoreError
from tgstats.logs import get_logger
from tgstats.store import erasure, events, recorder, skips
from tgstats.store.aggregates import (
    Delta,
    Msg,
    changed,
    lock_chats,
    move_reactions,
    read_rows,
)
from tgstats.store.bulk import Batch
from tgstats.store.chat_settings import ChatSettingsStore
from tgstats.store.export import export_rows
from tgstats.store.queries import ChatInfo, MessageQueries, UserInfo
from tgstats.store.schema import (
    chat_excluded_users,
    chat_migrations,
    chat_settings,
    chats,
    ensure_schema,
    opt_outs,
    schema_version,
    tombstones,
)
from tgstats.store.upserts import insert_ignore, upsert_chat_rows, upsert_message, upsert_user_rows

__all__ = ["DEFAULT_DB_URL", "Store", "default_db_url", "open_store", "safe_url"]

DEFAULT_DB_URL = "sqlite:///tgstats.db"
ENV_DB = "TGSTATS_DB"
# How long one statement waits for another connection's lock (SQLite busy
# timeout, PostgreSQL lock_timeout).  The CLI tools can wait; the bot passes
# a short one and retries in its writer thread instead (tgstats.store.writer).
DEFAULT_BUSY_TIMEOUT = 30.0
# SQLite's page cache during Store.bulk (KiB; the default is 2,000).
_BULK_CACHE_KIB = 64 * 1024

log = get_logger(__name__)


def default_db_url(explicit: str | None = None) -> str:
    """The database URL to use: argument > ``$TGSTATS_DB`` > ``sqlite:///tgstats.db``."""
    if explicit:
        return explicit
    return os.environ.get(ENV_DB) or DEFAULT_DB_URL


def safe_url(url: str | URL) -> str:
    """The URL for messages and logs, with any password masked."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "<unparseable database URL>"
    return parsed.render_as_string(hide_password=True)


def _one_line(error: BaseException, password: str | None) -> str:
    orig = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    text = lines[0] if lines else type(orig).__name__
    if password:
        text = text.replace(password, "***")
    return text


def _sqlite_pragmas(busy_timeout: float, dbapi_connection: Any, _record: Any) -> None:
    # WAL lets plugin queries read while the recorder writes.  FULL syncs the
    # WAL at each commit: the bot confirms an update to Telegram once its
    # commit returns, so that commit must survive a power cut or an OS crash
    # (NORMAL only survives the bot's own crash).  The store writer commits a
    # burst of messages at once, so the syncs stay few.  Foreign keys are off
    # by default in SQLite.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
    finally:
        cursor.close()


def _postgres_session(busy_timeout: float, dbapi_connection: Any, _record: Any) -> None:
    # synchronous_commit stays at the server's default (on): the bot tells
    # Telegram an update is stored once its commit returns, so that commit
    # must survive a crash of the server.  The store writer already puts a
    # burst of messages in one transaction, which keeps the flushes few.
    with dbapi_connection.cursor() as cursor:
        # A table lock held elsewhere fails the statement (and the writer
        # retries) instead of blocking its thread for ever.
        cursor.execute(f"SET lock_timeout TO {int(busy_timeout * 1000)}")
        # Every statistic is a small query; when the planner's estimate crosses
        # jit_above_cost, compiling it took 0.2 s of a 0.4 s /activity (1M
        # messages, measured), more than running it.
        cursor.execute("SET jit TO off")
    dbapi_connection.commit()


def _create_engine(url_text: str, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Engine:
    try:
        url = make_url(url_text)
    except ArgumentError:
        raise StoreError(
            "invalid database URL (expected e.g. sqlite:///tgstats.db or "
            "postgresql+psycopg://user@host:5432/dbname)"
        ) from None
    backend = url.get_backend_name()
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            # One shared connection, or every checkout would see an empty database.
            kwargs["poolclass"] = StaticPool
            kwargs["connect_args"] = {"check_same_thread": False}
        else:
            kwargs["connect_args"] = {"timeout": busy_timeout}
    elif backend == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        if "connect_timeout" not in url.query:
            kwargs["connect_args"] = {"connect_timeout": 10}
        kwargs["pool_pre_ping"] = True
    else:
        raise StoreError(
            f"unsupported database {backend!r} in {safe_url(url)}: use sqlite or postgresql"
        )
    try:
        engine = sqlalchemy.create_engine(url, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError) as error:
        raise StoreError(
            f"cannot use database {safe_url(url)}: {_one_line(error, url.password)}"
        ) from None
    listener = _sqlite_pragmas if backend == "sqlite" else _postgres_session
    event.listen(engine, "connect", functools.partial(listener, busy_timeout))
    return engine


def open_store(url: str | None = None, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Store:
    """Open (and on first use create) the store at ``url`` (default: see default_db_url).

    ``busy_timeout`` (seconds) bounds how long one statement waits for a lock
    another connection holds before it fails.
    """
    url_text = default_db_url(url)
    engine = _create_engine(url_text, busy_timeout)
    password = engine.url.password
    try:
        with engine.begin() as connection:
            version = ensure_schema(connection)
    except StoreError:
        engine.dispose()
        raise
    except (SQLAlchemyError, OSError) as error:
        engine.dispose()
        reason = _one_line(error, str(password) if password else None)
        if engine.url.get_backend_name() == "sqlite" and "unable to open" in reason:
            # WAL needs to create the -wal and -shm files beside the database.
            reason += " (the file and its directory must be writable)"
        raise StoreError(
            f"cannot open the message store at {safe_url(engine.url)}: {reason}"
        ) from None
    log.debug("store_opened", url=safe_url(engine.url), schema_version=version)
    return Store(engine)


class Store:
    """One database: the recorder's writes, the plugins' queries, import and export."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # The chats' own settings; the queries leave out the members each chat excluded.
        self.settings = ChatSettingsStore(engine)
        self.queries = MessageQueries(engine, excluded=self.settings.excluded_ids)
        # Last chat/user row written, so a busy chat does not rewrite its
        # chat and user rows for every message.
        self._seen_chats: dict[int, ChatInfo] = {}
        self._seen_users: dict[int, UserInfo] = {}
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return safe_url(self.engine.url)

    def check_writable(self) -> None:
        """Prove the database takes writes: update a row in a transaction, roll it back.

        Raises StoreError (one line) when it refuses them: a read-only file or
        file system, a role without write rights, a read-only transaction.  A
        lock held by another connection is no refusal: logged
        (``store_locked_at_start``), and writes wait for it later.
        """
        try:
            with self.engine.connect() as connection, connection.begin() as transaction:
                connection.execute(schema_version.update().values(version=schema_version.c.version))
                transaction.rollback()
        except SQLAlchemyError as error:
            password = self.engine.url.password
            reason = _one_line(error, str(password) if password else None)
            if _is_lock_wait(error):
                log.warning("store_locked_at_start", url=self.url, error=reason)
                return
            raise StoreError(
                f"the message store at {self.url} does not accept writes: {reason} "
                "(the bot must be able to write to it)"
            ) from None

    # -- recording -----------------------------------------------------------

    def record_message(self, message: telegram.Message) -> bool:
        """Store a new or edited message; True if a row was written.

        Group migrations move the history; service messages only refresh the
        chat row; senders who opted out in this chat are skipped.
        """
        return self.record_messages([message])[0]

    def record_messages(
        self, batch: Sequence[telegram.Message | recorder.RecordedMessage]
    ) -> list[bool]:
        """Store several messages in order, in as few transactions as possible.

        The bot's recorder hands over a burst (one ``getUpdates`` page) at
        once: a commit per message is what limits recording throughput, not
        the rows. Returns, per message, whether a row was written.  A
        RecordedMessage is a message already turned into its row (plain group
        messages the bot never parsed: tgstats.bot.plain); it is content.
        """
        written: list[bool] = []
        run: list[telegram.Message | recorder.RecordedMessage] = []
        for message in batch:
            if isinstance(message, recorder.RecordedMessage):
                run.append(message)
            elif message.migrate_to_chat_id or message.migrate_from_chat_id:
                written += self._record_run(run)
                run = []
                if message.migrate_to_chat_id:
                    self.migrate_chat(message.chat.id, message.migrate_to_chat_id)
                elif message.migrate_from_chat_id:
                    self.migrate_chat(message.migrate_from_chat_id, message.chat.id)
                written.append(False)
            else:
                run.append(message)
        return written + self._record_run(run)

    def _record_run(self, run: Sequence[telegram.Message | recorder.RecordedMessage]) -> list[bool]:
        """One transaction for messages that need no migration in between."""
        if not run:
            return []
        records = [
            m if isinstance(m, recorder.RecordedMessage) else recorder.to_record(m) for m in run
        ]
        written = [False] * len(records)
        with self.engine.begin() as connection:
            chats_seen = {r.chat.chat_id: r.chat for r in records}
            upsert_chat_rows(connection, _changed(self._seen_chats, chats_seen))
            # Opt-outs and tombstones: one query per batch; they are rare.
            skip = skips.skip_rules(connection, list(chats_seen))
            senders: dict[int, UserInfo] = {}
            rows = []
            for index, (message, record) in enumerate(zip(run, records, strict=True)):
                sender = record.sender
                if isinstance(message, telegram.Message) and not recorder.is_content(message):
                    continue
                if sender is not None:
                    skip_before = skip.get((record.chat.chat_id, sender.user_id), 0)
                    if record.row["date"] < skip_before:
                        continue
                    senders[sender.user_id] = sender
                rows.append(record.row)
                written[index] = True
            upsert_user_rows(connection, _changed(self._seen_users, senders))
            if rows:
                ids: dict[int, set[int]] = defaultdict(set)
                for row in rows:
                    ids[row["chat_id"]].add(row["message_id"])
                lock_chats(connection, ids)
                before = {chat: read_rows(connection, chat, keys) for chat, keys in ids.items()}
                # A one-element list would take the slower executemany path.
                upsert_message(connection, rows if len(rows) > 1 else rows[0])
                # A new row is stored as given (no reactions yet); read back only
                # rows that existed or came twice in the batch (edits).
                given: dict[tuple[int, int], Msg | None] = {}
                for row in rows:
                    key = (row["chat_id"], row["message_id"])
                    given[key] = None if key in given else _as_msg(row)
                delta = Delta()
                for chat, keys in ids.items():
                    old = before[chat]
                    again = [k for k in keys if k in old or given[(chat, k)] is None]
                    after = read_rows(connection, chat, again) if again else {}
                    for k in keys:
                        if k not in old and given[(chat, k)] is not None:
                            after[k] = given[(chat, k)]  # type: ignore[assignment]
                    changed(
                        connection,
                        chat,
                        {k: old.get(k) for k in keys},
                        {k: after.get(k) for k in keys},
                        delta,
                    )
                delta.apply(connection)
        # Only after the transaction committed: a rollback must not leave the
        # cache claiming a row exists.
        with self._lock:
            self._seen_chats.update(chats_seen)
            self._seen_users.update(senders)
        return written

    def _forget_seen(self) -> None:
        with self._lock:
            self._seen_chats.clear()
            self._seen_users.clear()

    def record_reaction_count(self, update: telegram.MessageReactionCountUpdated) -> bool:
        """Set the message's reaction count to the total Telegram reports; True if it changed.

        Idempotent: a redelivered update finds the count already set.  The
        aggregates move with it in the same transaction.
        """
        total = sum(
            reaction.total_count
            for reaction in update.reactions
            if not isinstance(reaction.type, telegram.ReactionTypePaid)
        )
        with self.engine.begin() as connection:
            return move_reactions(connection, update.chat.id, update.message_id, total)

    def record_reaction(self, update: telegram.MessageReactionUpdated) -> bool:
        """Apply one member's reaction change (groups report reactions per member).

        True if it was news; see :func:`tgstats.store.events.record_reaction`.
        """
        return self.record_reaction_change(update) is not None

    def record_reaction_change(
        self, update: telegram.MessageReactionUpdated
    ) -> events.ReactionChange | None:
        """:meth:`record_reaction`, returning the change itself."""
        return events.record_reaction(self.engine, update)

    def record_member_changes(
        self, item: telegram.Message | telegram.ChatMemberUpdated
    ) -> list[events.MemberChange]:
        """Store the joins and leaves ``item`` reports; return the ones not stored before."""
        changes = events.member_changes_of(item)
        return events.record_member_changes(self.engine, item.chat, changes)

    def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """A group became a supergroup: queries for the new id include the old history.

        Old rows keep their ids (the supergroup restarts message ids, so moving
        them could collide); opt-outs, tombstones, the chat's /settings and its
        excluded members carry over (a value the new chat already has wins).
        Idempotent.
        """
        if old_chat_id == new_chat_id:
            return
        with self.engine.begin() as connection:
            old = connection.execute(select(chats).where(chats.c.chat_id == old_chat_id)).first()
            connection.execute(
                insert_ignore(connection, chats),
                [
                    {"chat_id": old_chat_id, "title": old.title if old else None, "type": "group"},
                    {
                        "chat_id": new_chat_id,
                        "title": old.title if old else None,
                        "type": "supergroup",
                    },
                ],
            )
            connection.execute(
                insert_ignore(connection, chat_migrations),
                {"old_chat_id": old_chat_id, "new_chat_id": new_chat_id},
            )
            carried = connection.execute(
                select(opt_outs.c.user_id, opt_outs.c.since).where(
                    opt_outs.c.chat_id == old_chat_id
                )
            ).all()
            if carried:
                connection.execute(
                    insert_ignore(connection, opt_outs),
                    [{"chat_id": new_chat_id, "user_id": u, "since": s} for u, s in carried],
                )
            buried = connection.execute(
                select(tombstones.c.user_id, tombstones.c.skip_before).where(
                    tombstones.c.chat_id == old_chat_id
                )
            ).all()
            if buried:
                connection.execute(
                    insert_ignore(connection, tombstones),
                    [{"chat_id": new_chat_id, "user_id": u, "skip_before": s} for u, s in buried],
                )
            for table in (chat_settings, chat_excluded_users):
                rows = connection.execute(
                    select(table).where(table.c.chat_id == old_chat_id)
                ).mappings()
                moved = [{**row, "chat_id": new_chat_id} for row in rows]
                if moved:
                    connection.execute(insert_ignore(connection, table), moved)
        self.settings.forget(new_chat_id)
        self._forget_seen()
        log.info("chat_migrated", old_chat_id=old_chat_id, new_chat_id=new_chat_id)

    # -- privacy -------------------------------------------------------------

    def erase_member(self, user_id: int, chat_ids: Sequence[int] | None) -> erasure.Erased:
        """Erase the member from ``chat_ids`` (every chat if None) and stop recording them
        there: the one place that removes what identifies a member (see tgstats.store.erasure)."""
        with self.engine.begin() as connection:
            erased = erasure.erase_member(connection, user_id, chat_ids, int(time.time()))
        with self._lock:  # the users row may be gone: write it again if they come back
            self._seen_users.pop(user_id, None)
        log.info(
            "member_erased",
            user_id=user_id,
            chats=len(erased.chats),
            messages=erased.messages,
            answered_commands=erased.answered_commands,
            rejected_updates=erased.rejected_updates,
            user_row=erased.user_row,
        )
        return erased

    def opt_out(self, chat_id: int, user_id: int) -> int:
        """Erase the user from the chat (and its pre-migration history) and stop
        recording them there; return how many messages were deleted."""
        return self.erase_member(user_id, [chat_id]).messages

    def opt_in(self, chat_id: int | None, user_id: int) -> bool:
        """Record the user's messages in the chat (every chat if None) again, from now on.

        Deleted history stays deleted, and the tombstone keeps an import from
        bringing back anything dated before now.  False if they were not opted out.
        """
        with self.engine.begin() as connection:
            chats = erasure.opt_in(connection, user_id, chat_id, int(time.time()))
        log.info("user_opted_in", chat_id=chat_id, user_id=user_id, chats=len(chats))
        return bool(chats)

    def is_opted_out(self, chat_id: int, user_id: int) -> bool:
        with self.engine.connect() as connection:
            rule = skips.skip_rules(connection, [chat_id]).get((chat_id, user_id), 0)
        return rule == skips.SKIP_ALL

    # -- import / export -----------------------------------------------------

    @contextmanager
    def bulk(self) -> Iterator[Batch]:
        """One transaction for many writes; rolled back entirely on any error."""
        with self.engine.begin() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # A big import touches index pages all over the messages table (each
                # member's rows, each reply's parent): with SQLite's default 2 MB page
                # cache it re-reads them, a fifth of the writer's time at 1M messages.
                # A fixed bound, so memory stays constant; the pooled connection
                # gets its default back.
                cache = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
                connection.exec_driver_sql(f"PRAGMA cache_size=-{_BULK_CACHE_KIB}")
            try:
                batch = Batch(connection)
                yield batch
                batch.finish()  # the aggregates commit with the messages
            finally:
                if sqlite:
                    with suppress(SQLAlchemyError):  # never hide the error being raised
                        connection.exec_driver_sql(f"PRAGMA cache_size={cache}")
        self._forget_seen()

    def export(self, chat_id: int | None = None) -> Iterator[dict[str, Any]]:
        """JSON-ready dicts ordered by chat, date, message id (see tgstats.store.export)."""
        return export_rows(self.engine, chat_id)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _as_msg(row: Mapping[str, Any]) -> Msg:
    """The aggregates' view of a row about to be inserted."""
    return Msg(
        row["message_id"],
        row["user_id"],
        row["date"],
        row["text"] or "",
        row["reply_to_message_id"],
        0,
        bool(row["counted"]),
    )


def _is_lock_wait(error: SQLAlchemyError) -> bool:
    """Whether ``error`` says "someone else holds a lock" (SQLite busy/locked,
    PostgreSQL lock_not_available or a cancelled wait)."""
    orig = getattr(error, "orig", None)
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED
    return getattr(orig, "sqlstate", None) in ("55P03", "57014")


def _changed(
    seen: Mapping[int, ChatInfo | UserInfo], current: Mapping[int, ChatInfo | UserInfo]
) -> list[dict[str, Any]]:
    """Rows of the chats or users in ``current`` that differ from the last ones written."""
    return [attrs.asdict(info) for key, info in current.items() if seen.get(key) != info]
