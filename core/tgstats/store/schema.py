"""The store's tables (SQLAlchemy Core), its version number and the migration hook.

Dates are integer unix seconds (UTC): compact, index-friendly and identical on
SQLite and PostgreSQL, and time-zone arithmetic happens in the queries anyway.
BigInteger everywhere for Telegram ids (supergroup ids exceed 32 bits).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
    true,
)
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateIndex

from tgstats.errors import StoreError
from tgstats.store.stickers import STICKER_EMOJI_MAX
from tgstats.store.words import odd_words_sql
from tgstats.store.zones import DAY

__all__ = [
    "BUCKET",
    "CHAT_ACTIVITY_SQL",
    "CHAT_WORDS_SQL",
    "CHAT_WORD_DAYS_SQL",
    "DAY_BUCKETS",
    "DERIVED",
    "MEMBER_DAYS_SQL",
    "MEMBER_INDEXES",
    "MEMBER_WORDS_COUNT_INDEX",
    "MEMBER_WORDS_SQL",
    "MEMBER_WORD_SPANS_SQL",
    "MIGRATIONS",
    "ODD_WORDS_INDEX",
    "REPLIES_RECEIVED_SQL",
    "SCHEMA_VERSION",
    "SPAN_DAYS",
    "STICKER_KIND",
    "WORD_COUNT_INDEXES",
    "WORD_LENGTH_INDEX",
    "WORD_SPANS_SQL",
    "WORD_TOTALS_SQL",
    "activity_buckets",
    "answered_commands",
    "bot_secrets",
    "chat_buckets",
    "chat_excluded_users",
    "chat_migrations",
    "chat_settings",
    "chat_usernames",
    "chat_word_days",
    "chat_words",
    "chats",
    "ensure_schema",
    "member_days",
    "member_events",
    "member_months",
    "member_word_spans",
    "member_words",
    "messages",
    "metadata",
    "opt_outs",
    "reactions",
    "rejected_updates",
    "replies_received",
    "reply_buckets",
    "schedule_runs",
    "schema_version",
    "tombstones",
    "users",
    "word_days",
    "word_spans",
    "word_totals",
]

# Bump when the tables change and add a step to MIGRATIONS that upgrades a
# database from the previous version.
SCHEMA_VERSION = 9

metadata = MetaData()

schema_version = Table(
    "tgstats_schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
)

chats = Table(
    "chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("title", String, nullable=True),
    Column("type", String(32), nullable=True),
)

# A chat's public @username (for t.me links), beside ``chats`` rather than a
# new column of it: a new table is created on an existing database by
# ``create_all`` without a schema version bump or a migration step.
chat_usernames = Table(
    "chat_usernames",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("username", String, nullable=True),
)

users = Table(
    "users",
    metadata,
    # Channel senders (sender_chat) share this table with their negative chat id.
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("username", String, nullable=True),
    Column("display_name", String, nullable=False, default=""),
    Column("is_channel", Boolean, nullable=False, default=False),
)

# Partial indexes for one member's card (tgstats.store.member_queries), added in
# schema version 5.  A member's rows are a big slice of a chat (438k of 1M for
# the most active one), and the card wants two small parts of it: the sticker
# rows (count and favourite stickers) and the replies (median reply time).
# Each index holds only those rows, with what the query reads riding along, so
# a plan that takes it need not read the table (PostgreSQL: once vacuumed;
# SQLite, without statistics, may take the (chat, reply) index for the replies
# instead, at the same cost there).  The conditions are literal SQL: a query
# uses a partial index only when its WHERE repeats the condition (SQLite does
# not look into bound parameters), which is why the queries inline
# STICKER_KIND and write `reply_to_message_id IS NOT NULL` out.
STICKER_KIND = "sticker"
_IS_STICKER = text(f"media_kind = '{STICKER_KIND}'")
_IS_REPLY = text("reply_to_message_id IS NOT NULL")
MEMBER_INDEXES = (
    Index(
        "ix_messages_member_stickers",
        "chat_id",
        "user_id",
        "date",
        "counted",
        "sticker_emoji",
        # Only ever 'sticker' here, but SQLite (3.40) counts an index as
        # covering only if it holds every column the query names, its
        # condition's too; without it the planner prefers the primary key.
        "media_kind",
        sqlite_where=_IS_STICKER,
        postgresql_where=_IS_STICKER,
    ),
    Index(
        "ix_messages_member_replies",
        "chat_id",
        "user_id",
        "date",
        "reply_to_message_id",
        "counted",
        sqlite_where=_IS_REPLY,
        postgresql_where=_IS_REPLY,
    ),
)

messages = Table(
    "messages",
    metadata,
    Column("chat_id", BigInteger, ForeignKey("chats.chat_id"), nullable=False),
    Column("message_id", BigInteger, nullable=False),
    Column("thread_id", BigInteger, nullable=True),
    Column("user_id", BigInteger, nullable=True),
    Column("date", BigInteger, nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("reply_to_message_id", BigInteger, nullable=True),
    Column("media_kind", String(32), nullable=True),
    Column("edit_date", BigInteger, nullable=True),
    Column("reaction_count", Integer, nullable=False, default=0),
    # Whether statistics count the message: False for bot commands and for
    # messages from bots, which are stored (a reply may point at them) but are
    # not what people wrote.  See tgstats.store.counting.
    Column("counted", Boolean, nullable=False, default=True, server_default=true()),
    # The emoji Telegram attaches to a sticker ("😂"), NULL for any other message
    # and for stickers stored before schema version 5 (see tgstats.store.stickers).
    Column("sticker_emoji", String(STICKER_EMOJI_MAX), nullable=True),
    PrimaryKeyConstraint("chat_id", "message_id", name="pk_messages"),
    # Period scans of a chat (heatmap, texts, export); `counted` rides along
    # in every index so the statistics' filter on it never touches the table.
    Index("ix_messages_chat_date", "chat_id", "date", "counted"),
    # Per-user periods and per-user grouping (engagement, @user filters);
    # reaction_count rides along so the engagement scan never touches the table.
    Index("ix_messages_chat_user_date", "chat_id", "user_id", "date", "reaction_count", "counted"),
    # "Who replied to this message" lookups; user_id and date ride along so
    # reply statistics read the replying side from the index alone.
    Index("ix_messages_chat_reply", "chat_id", "reply_to_message_id", "user_id", "date", "counted"),
    *MEMBER_INDEXES,
    # SQLite: cluster rows by (chat_id, message_id) so a chat's rows are
    # contiguous (text scans read sequentially, reply parents are one lookup).
    sqlite_with_rowid=False,
)

# A group upgraded to a supergroup gets a new chat id and restarts message ids,
# so old rows keep their (old_chat_id, message_id) key and queries for the new
# id include every chat that migrated into it.
chat_migrations = Table(
    "chat_migrations",
    metadata,
    Column("old_chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("new_chat_id", BigInteger, nullable=False, index=True),
)

opt_outs = Table(
    "opt_outs",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("since", BigInteger, nullable=False),
    PrimaryKeyConstraint("chat_id", "user_id", name="pk_opt_outs"),
)

# What an opt-out leaves behind once the member's rows are gone: no message of
# ``user_id`` in ``chat_id`` dated before ``skip_before`` (unix seconds) is ever
# stored again, by an import or a late edit.  Set at the opt-out and moved to
# the opt-in's time by /optin, so messages sent while opted out stay out too.
# Unlike the opt_outs row it survives /optin.  Added without a version bump:
# ensure_schema's create_all adds a new table to an older database.
tombstones = Table(
    "tombstones",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("skip_before", BigInteger, nullable=False),
    PrimaryKeyConstraint("chat_id", "user_id", name="pk_tombstones"),
)


# The indexes of the messages table at schema version 1.
_VERSION_1_INDEXES = (
    "ix_messages_chat_date",
    "ix_messages_chat_user_date",
    "ix_messages_chat_reply",
)


def _add_counted(connection: Connection) -> None:
    """Version 1 -> 2: the ``counted`` column, set False for the commands already stored.

    Version 1 kept no trace of a sender being a bot, so only commands (a text
    that starts with ``/`` and a letter, as Telegram recognises them) can be
    told apart in old rows; new rows are classified when they are written.
    """
    connection.execute(
        text("ALTER TABLE messages ADD COLUMN counted BOOLEAN NOT NULL DEFAULT true")
    )
    command = (
        "text GLOB '/[A-Za-z]*'" if connection.dialect.name == "sqlite" else "text ~ '^/[A-Za-z]'"
    )
    connection.execute(text(f"UPDATE messages SET counted = false WHERE {command}"))
    # Rebuilt with `counted` riding along.  Only the three version 1 had: the
    # later ones need columns a later step adds, and that step creates them.
    for index in messages.indexes:
        if index.name in _VERSION_1_INDEXES:
            index.drop(connection, checkfirst=True)
            index.create(connection)


# Updates the bot could not parse or whose handling raised in the host: their
# raw JSON, so `tgstats rejected` can show them (see tgstats.store.rejected).
# A redelivered update is kept once (unique update_id).  New tables need no
# migration step: ensure_schema's create_all adds them to an older database.
rejected_updates = Table(
    "rejected_updates",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("update_id", BigInteger, nullable=True, unique=True),
    Column("received_at", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),
)

# Commands the bot has handled, so one redelivered after a crash is not answered twice.
answered_commands = Table(
    "answered_commands",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=False),
    Column("answered_at", BigInteger, nullable=False, index=True),
    PrimaryKeyConstraint("chat_id", "message_id", name="pk_answered_commands"),
)

# -- aggregates kept on write (tgstats.store.aggregates) ----------------------
#
# Only counted messages (tgstats.store.counting) contribute.  Times are
# 15-minute UTC buckets (``date // 900``): every UTC offset in use since the
# 1970s is a multiple of 15 minutes, so a bucket lies in one local hour and one
# local day of any zone, whatever its DST rules or the chat's zone setting.
# A message without a sender is kept under user_id 0 (no Telegram id is 0).
# Rows whose counts reach zero are deleted, so a recomputation matches exactly.

BUCKET = 900
DAY_BUCKETS = DAY // BUCKET  # 96 buckets in a UTC day

activity_buckets = Table(
    "agg_activity",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("bucket", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("messages", Integer, nullable=False),
    Column("reactions", BigInteger, nullable=False),  # sum of reaction_count
    PrimaryKeyConstraint("chat_id", "bucket", "user_id", name="pk_agg_activity"),
    # Per-member periods and per-member grouping (engagement, @user filters).
    Index("ix_agg_activity_user", "chat_id", "user_id", "bucket", "messages", "reactions"),
    sqlite_with_rowid=False,
)

# The same per chat alone (no member): what the heatmap of a whole chat reads,
# at most 96 rows a day however many members write.
chat_buckets = Table(
    "agg_chat_activity",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("bucket", BigInteger, nullable=False),
    Column("messages", Integer, nullable=False),
    PrimaryKeyConstraint("chat_id", "bucket", name="pk_agg_chat_activity"),
    sqlite_with_rowid=False,
)

# Replies between two different senders, in the reply's bucket; the parent
# must be stored (in the same chat id), as the reply statistics require.
reply_buckets = Table(
    "agg_replies",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("bucket", BigInteger, nullable=False),
    Column("from_user_id", BigInteger, nullable=False),
    Column("to_user_id", BigInteger, nullable=False),
    Column("replies", Integer, nullable=False),
    PrimaryKeyConstraint("chat_id", "bucket", "from_user_id", "to_user_id", name="pk_agg_replies"),
    sqlite_with_rowid=False,
)

# Word counts per UTC day (tgstats.store.words): a 15-minute bucket per word
# would cost several times the rows; a period's partial UTC days at its edges
# are counted from the texts of those hours instead, which keeps any zone exact.
word_days = Table(
    "agg_words",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("day", Integer, nullable=False),  # date // 86400
    Column("user_id", BigInteger, nullable=False),
    Column("word", String, nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("chat_id", "day", "user_id", "word", name="pk_agg_words"),
    sqlite_with_rowid=False,
)

# The whole chat's word counts per UTC day (no member): a period's partial
# span at either edge reads these, half the rows of agg_words (9,700 words a
# day against 20,000 member-words at 10M messages), and a word's count in
# them is one seek per day.
chat_word_days = Table(
    "agg_chat_word_days",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("day", Integer, nullable=False),  # date // 86400
    Column("word", String, nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("chat_id", "day", "word", name="pk_agg_chat_word_days"),
    sqlite_with_rowid=False,
)

# The whole chat's word counts per block of SPAN_DAYS UTC days (no member):
# a long period adds up a few rows per word and block instead of one per
# member, word and day.  Kept with agg_words, from the same deltas.
SPAN_DAYS = 16

word_spans = Table(
    "agg_word_spans",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("span", Integer, nullable=False),  # date // 86400 // SPAN_DAYS
    Column("word", String, nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("chat_id", "span", "word", name="pk_agg_word_spans"),
    sqlite_with_rowid=False,
)

# The same per member: a member's long period (/wordcloud 365 @user) adds up
# one row per word and span instead of one per word and day, and excluded
# members' spans come off the chat's.  Measured at 10M messages before it: the
# most active member's 365 days were 3.4 million day rows (2.9 s to read).
member_word_spans = Table(
    "agg_member_word_spans",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("span", Integer, nullable=False),  # date // 86400 // SPAN_DAYS
    Column("word", String, nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("chat_id", "user_id", "span", "word", name="pk_agg_member_word_spans"),
    sqlite_with_rowid=False,
)

# Each span's words most used first, chat-wide and per member: a period's
# ranking reads the head of each of its spans and stops where no word left
# unread could reach the cut (tgstats.store.word_ranking), instead of adding
# up every word of every span (1.9 million rows for a year of the 10M chat).
WORD_COUNT_INDEXES = (
    Index(
        "ix_agg_word_spans_count", word_spans.c.chat_id, word_spans.c.span, word_spans.c["count"]
    ),
    Index(
        "ix_agg_member_word_spans_count",
        member_word_spans.c.chat_id,
        member_word_spans.c.user_id,
        member_word_spans.c.span,
        member_word_spans.c["count"],
    ),
)

# How many words each member wrote each UTC day (agg_words summed over the
# words): a period's word total reads one row per member and day instead of
# every word of the period.
word_totals = Table(
    "agg_word_totals",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("day", Integer, nullable=False),  # date // 86400
    Column("user_id", BigInteger, nullable=False),
    Column("words", BigInteger, nullable=False),
    PrimaryKeyConstraint("chat_id", "day", "user_id", name="pk_agg_word_totals"),
    sqlite_with_rowid=False,
)


# Per member and UTC day: the sums of agg_activity, and the first and last
# bucket with messages.  A long period's engagement reads this (a few hundred
# thousand rows for ten years of a busy chat) instead of every member bucket.
# It is exact for active local days too: within a UTC day with no offset
# change the zone's offset is constant, so the day's buckets fall in at most
# two consecutive local days, in order, and the first and last bucket name
# both.  UTC days holding a transition are read from agg_activity instead
# (tgstats.store.bucketed.member_activity).  Kept with agg_activity
# (tgstats.store.aggregates) and checked against it by verify.
member_days = Table(
    "agg_member_days",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("day", Integer, nullable=False),  # bucket // 96, date // 86400
    Column("user_id", BigInteger, nullable=False),
    Column("messages", Integer, nullable=False),
    Column("reactions", BigInteger, nullable=False),
    Column("first_bucket", BigInteger, nullable=False),
    Column("last_bucket", BigInteger, nullable=False),
    PrimaryKeyConstraint("chat_id", "day", "user_id", name="pk_agg_member_days"),
    # Grouping by member in key order: no sort of every row (engagement of all time).
    Index(
        "ix_agg_member_days_user",
        "chat_id",
        "user_id",
        "day",
        "messages",
        "reactions",
        "first_bucket",
        "last_bucket",
    ),
    sqlite_with_rowid=False,
)

# Engagement's sums per member over whole local months of the chat's zone: a
# cache, not kept on write.  tgstats.store.month_cache fills a month on first
# use from the tables above; any write to a month's member days or replies
# received drops it (tgstats.store.aggregates.forget_months).  ``zone`` is the
# zone's key and a checksum of its offsets over the month; user 0 marks a month
# as filled (it may have no member rows).
member_months = Table(
    "cache_member_months",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("month_start", BigInteger, nullable=False),  # UTC second of local midnight
    Column("zone", String(96), nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("month_end", BigInteger, nullable=False),
    Column("messages", Integer, nullable=False),
    Column("active_days", Integer, nullable=False),
    Column("reactions", BigInteger, nullable=False),
    Column("replies_received", Integer, nullable=False),
    PrimaryKeyConstraint(
        "chat_id", "month_start", "zone", "user_id", name="pk_cache_member_months"
    ),
    sqlite_with_rowid=False,
)

# The member-day rows as they follow from agg_activity: the migration, rebuild
# and verify all use this one definition.
MEMBER_DAYS_SQL = (
    f"SELECT chat_id, bucket / {DAY_BUCKETS}, user_id, sum(messages), sum(reactions), "
    "min(bucket), max(bucket) FROM agg_activity {where} "
    f"GROUP BY chat_id, bucket / {DAY_BUCKETS}, user_id"
)


# Replies each member received per UTC day (agg_replies summed over the
# replier and the day's buckets): what engagement's "replies received" reads
# for the whole UTC days of a period.  Kept with agg_replies, checked against it.
replies_received = Table(
    "agg_replies_received",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("day", Integer, nullable=False),
    Column("user_id", BigInteger, nullable=False),  # who was replied to
    Column("replies", Integer, nullable=False),
    PrimaryKeyConstraint("chat_id", "day", "user_id", name="pk_agg_replies_received"),
    Index("ix_agg_replies_received_user", "chat_id", "user_id", "day", "replies"),
    sqlite_with_rowid=False,
)

REPLIES_RECEIVED_SQL = (
    f"SELECT chat_id, bucket / {DAY_BUCKETS}, to_user_id, sum(replies) FROM agg_replies "
    f"{{where}} GROUP BY chat_id, bucket / {DAY_BUCKETS}, to_user_id"
)


# All-time word counts, per member and per chat: what a cloud of all history
# reads (one row per distinct word) instead of summing days or spans.  Kept
# with agg_words, from the same deltas, and checked against it.
member_words = Table(
    "agg_member_words",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("word", String, nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("chat_id", "user_id", "word", name="pk_agg_member_words"),
    sqlite_with_rowid=False,
)

# A member's words by count: their all-time cloud (/wordcloud all @user)
# reads their first rows from here.  Without it PostgreSQL ordered every row
# of the member in a heap shared by all members (0.2 s for the most active
# member of the 10M chat, more than the whole chat's `all` at 0.15 s; 1.4 ms
# with it).  The chat's all-time table has no such index: every message
# changes its counts, and `all` orders it in one pass.
MEMBER_WORDS_COUNT_INDEX = Index(
    "ix_agg_member_words_count",
    member_words.c.chat_id,
    member_words.c.user_id,
    member_words.c["count"],
)

chat_words = Table(
    "agg_chat_words",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("word", String, nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("chat_id", "word", name="pk_agg_chat_words"),
    sqlite_with_rowid=False,
)

# The chat's words by length: a word total leaves out the words too short or
# too long for its caller, a few thousand of the vocabulary found from here
# (and then summed over the period by key) instead of measured one by one.
WORD_LENGTH_INDEX = Index(
    "ix_agg_chat_words_length", chat_words.c.chat_id, func.length(chat_words.c.word)
)

# The chat's words SQL cannot tell from an emoji (tgstats.store.words,
# EMOJI_RANGES): a word total finds them here and counts them one by one; a
# locale collation on PostgreSQL would otherwise make it compare every row.
ODD_WORDS_INDEX = Index(
    "ix_agg_chat_words_odd",
    chat_words.c.chat_id,
    chat_words.c.word,
    sqlite_where=text(odd_words_sql("sqlite")),
    postgresql_where=text(odd_words_sql("postgresql")),
)

MEMBER_WORDS_SQL = (
    "SELECT chat_id, user_id, word, sum(count) FROM agg_words {where} "
    "GROUP BY chat_id, user_id, word"
)
CHAT_WORDS_SQL = "SELECT chat_id, word, sum(count) FROM agg_words {where} GROUP BY chat_id, word"
CHAT_WORD_DAYS_SQL = (
    "SELECT chat_id, day, word, sum(count) FROM agg_words {where} GROUP BY chat_id, day, word"
)
WORD_TOTALS_SQL = (
    "SELECT chat_id, day, user_id, sum(count) FROM agg_words {where} GROUP BY chat_id, day, user_id"
)
CHAT_ACTIVITY_SQL = (
    "SELECT chat_id, bucket, sum(messages) FROM agg_activity {where} GROUP BY chat_id, bucket"
)
WORD_SPANS_SQL = (
    f"SELECT chat_id, day / {SPAN_DAYS}, word, sum(count) FROM agg_words {{where}} "
    f"GROUP BY chat_id, day / {SPAN_DAYS}, word"
)
MEMBER_WORD_SPANS_SQL = (
    f"SELECT chat_id, user_id, day / {SPAN_DAYS}, word, sum(count) FROM agg_words {{where}} "
    f"GROUP BY chat_id, user_id, day / {SPAN_DAYS}, word"
)

# The tables summed from finer ones, each with the SELECT of its rows (columns
# in the table's order; ``{where}`` takes a filter).  Upgrades, rebuild and
# verify all use this one list.
DERIVED: tuple[tuple[Table, str], ...] = (
    (chat_buckets, CHAT_ACTIVITY_SQL),
    (member_days, MEMBER_DAYS_SQL),
    (replies_received, REPLIES_RECEIVED_SQL),
    (word_spans, WORD_SPANS_SQL),
    (member_word_spans, MEMBER_WORD_SPANS_SQL),
    (member_words, MEMBER_WORDS_SQL),
    (chat_words, CHAT_WORDS_SQL),
    (word_totals, WORD_TOTALS_SQL),
    (chat_word_days, CHAT_WORD_DAYS_SQL),
)


def _build_aggregates(connection: Connection) -> None:
    """Version 2 -> 3: the aggregate tables (created by create_all) filled from the messages."""
    from tgstats.store.rebuild import rebuild  # that module imports this one

    rebuild(connection, progress=True)


# Members joining and leaving, from service messages and chat_member updates.
# One join seen both ways (or delivered twice) is one row: the recorder skips
# an event of the same kind for the same member within a minute of a stored
# one, and the unique key stops an exact duplicate on any path.
member_events = Table(
    "member_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("kind", String(8), nullable=False),  # "join" | "leave"
    Column("date", BigInteger, nullable=False),
    Column("source", String(16), nullable=False),  # "service" | "chat_member"
    UniqueConstraint("chat_id", "user_id", "kind", "date", name="uq_member_events"),
    Index("ix_member_events_chat_date", "chat_id", "date", "kind"),
)

# Each member's current reactions to a message (message_reaction updates):
# one row per (message, reactor), kept with an empty list after a withdrawal,
# so a redelivered or stale update is recognised and never counted twice.
# ``user_id`` is the reacting user, or the chat an anonymous reaction came from.
reactions = Table(
    "reactions",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("emojis", Text, nullable=False, default=""),  # space-separated reaction keys
    Column("count", Integer, nullable=False, default=0),
    Column("date", BigInteger, nullable=False),
    PrimaryKeyConstraint("chat_id", "message_id", "user_id", name="pk_reactions"),
    Index("ix_reactions_chat_user_date", "chat_id", "user_id", "date", "count"),
)

# When each plugin's scheduled job last ran in each chat, so a restart runs a
# missed job once (not once per missed period) and a run is never repeated.
schedule_runs = Table(
    "schedule_runs",
    metadata,
    Column("plugin", String(64), nullable=False),
    Column("job", String(128), nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("last_run", BigInteger, nullable=False),
    PrimaryKeyConstraint("plugin", "job", "chat_id", name="pk_schedule_runs"),
)

# Per-chat settings the chat's admins chose (/settings): one row per key,
# the value as JSON.  Keys are the host's (timezone, language, period), a
# plugin's switch (``plugin:NAME``) or one of its per-chat options
# (``option:NAME.OPTION``); tgstats.host.chat_settings validates them before
# they are written and again when they are read (the plugin may have changed).
chat_settings = Table(
    "chat_settings",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("key", String(128), nullable=False),
    Column("value", Text, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", BigInteger, nullable=True),
    PrimaryKeyConstraint("chat_id", "key", name="pk_chat_settings"),
)

# Members a chat's admins left out of its statistics (/settings exclude @user).
chat_excluded_users = Table(
    "chat_excluded_users",
    metadata,
    Column("chat_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("since", BigInteger, nullable=False),
    Column("excluded_by", BigInteger, nullable=True),
    PrimaryKeyConstraint("chat_id", "user_id", name="pk_chat_excluded_users"),
)

# Secrets the bot keeps across restarts (the key that signs button data), by name.
bot_secrets = Table(
    "bot_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


def _build_coarse_tiers(connection: Connection) -> None:
    """Version 3 -> 4: the member-day, replies-received and all-time word tables
    (created by create_all) filled from the finer aggregates."""
    _fill_derived(connection, (member_days, replies_received, member_words, chat_words))


def _fill_derived(connection: Connection, new: tuple[Table, ...]) -> None:
    """Fill the derived tables ``new`` (just created by create_all) from the finer ones.

    An upgrade from before version 3 has just built every aggregate (the
    DELETE makes that harmless); one from a version before a table existed
    fills it here, from the finer table it sums."""
    for table, sql in DERIVED:
        if table not in new:
            continue
        connection.exec_driver_sql(f"DELETE FROM {table.name}")
        connection.exec_driver_sql(f"INSERT INTO {table.name} {sql.format(where='')}")
        if connection.dialect.name == "postgresql":
            # Plans for the filled table now, not when autovacuum gets to it:
            # without statistics the engagement query read its rows through a
            # bitmap scan and took 0.26 s instead of 0.18 at 10M messages.
            connection.exec_driver_sql(f"ANALYZE {table.name}")


def _add_sticker_emoji(connection: Connection) -> None:
    """Version 4 -> 5: the ``sticker_emoji`` column and the member card's partial indexes.

    ADD COLUMN of a nullable column without a default rewrites nothing on
    either backend (stickers stored before keep NULL: the emoji was never
    kept, and neither Telegram nor the store can tell it now); a re-import of
    an export fills it in (tgstats.store.bulk).  Building the two indexes
    reads the messages once; they are small (stickers and replies only).
    """
    length = STICKER_EMOJI_MAX
    connection.execute(text(f"ALTER TABLE messages ADD COLUMN sticker_emoji VARCHAR({length})"))
    for index in MEMBER_INDEXES:
        index.create(connection, checkfirst=True)


def _add_month_cache(connection: Connection) -> None:
    """Version 5 -> 6: ``cache_member_months`` (created empty by create_all; it
    fills itself as engagement is asked for)."""


def _build_member_word_spans(connection: Connection) -> None:
    """Version 6 -> 7: ``agg_member_word_spans`` filled from ``agg_words`` (one
    pass over the member-day word rows: about a minute for a 10M-message chat)."""
    _fill_derived(connection, (member_word_spans,))


def _add_word_ranking_tables(connection: Connection) -> None:
    """Version 7 -> 8: the span tables' count indexes, the all-time words'
    length and emoji-like indexes, and ``agg_word_totals`` and ``agg_chat_word_days`` filled
    from ``agg_words``."""
    # IF NOT EXISTS (an upgrade from before version 3 has just created the
    # tables with them), not checkfirst: that reflects the table's indexes,
    # and SQLAlchemy cannot reflect the length index (it warns).
    for index in (*WORD_COUNT_INDEXES, WORD_LENGTH_INDEX, ODD_WORDS_INDEX):
        connection.execute(CreateIndex(index, if_not_exists=True))
    _fill_derived(connection, (word_totals, chat_word_days))


def _add_member_words_count_index(connection: Connection) -> None:
    """Version 8 -> 9: the member words' count index (IF NOT EXISTS: an
    upgrade from before version 4 has just created the table with it)."""
    connection.execute(CreateIndex(MEMBER_WORDS_COUNT_INDEX, if_not_exists=True))


# version -> step that upgrades a database at that version to version + 1.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: _add_counted,
    2: _build_aggregates,
    3: _build_coarse_tiers,
    4: _add_sticker_emoji,
    5: _add_month_cache,
    6: _build_member_word_spans,
    7: _add_word_ranking_tables,
    8: _add_member_words_count_index,
}


# Any fixed 64-bit number; "tgstats" in ASCII, so other applications' keys do not collide.
_SCHEMA_LOCK = 0x7467737461747300


def ensure_schema(connection: Connection) -> int:
    """Create missing tables, record or upgrade the version; return it.

    Runs inside the caller's transaction so a failed migration leaves the
    database as it was.  On PostgreSQL it first takes a transaction-scoped
    advisory lock: N webhook workers starting at once on an empty database
    would otherwise race to create the same tables ("duplicate key value").
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
    metadata.create_all(connection, checkfirst=True)
    found = connection.execute(select(schema_version.c.version)).scalars().all()
    if not found:
        connection.execute(schema_version.insert().values(version=SCHEMA_VERSION))
        return SCHEMA_VERSION
    version = start = max(found)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"database schema version {version} is newer than this tgstats supports "
            f"({SCHEMA_VERSION}); upgrade tgstats"
        )
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise StoreError(f"no migration from schema version {version} to {version + 1}")
        step(connection)
        version += 1
    if version != start:
        connection.execute(schema_version.delete())
        connection.execute(schema_version.insert().values(version=version))
    return version
