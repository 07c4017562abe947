"""Keeping the aggregate tables exact as messages are written, edited and erased.

Every write path works the same way, inside the transaction that writes the
messages: it takes the rows it is about to change as they were (``before``)
and as they are afterwards (``after``), and :func:`changed` turns the
difference into a :class:`Delta` of the aggregate rows, which
:meth:`Delta.apply` adds in a few set-based statements.  Reply pairs need the
parent's sender, so a message that appears or disappears also moves the pairs
of the stored replies to it.  Erasing a member (``/optout``) is set-based:
every aggregate row of theirs goes, and so does every pair naming them (a
pair needs both messages).

On PostgreSQL (READ COMMITTED) two writers could both read a row as missing
and both count it; :func:`lock_chats` serialises the writers of a chat with a
transaction-scoped advisory lock.  SQLite transactions are serialisable (a
write on a stale snapshot fails and the writer retries), so it needs none.

The tables are described in tgstats.store.schema; verify and rebuild live in
tgstats.store.rebuild.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from sqlalchemy import update
from sqlalchemy.engine import Connection

from tgstats.store.schema import (
    BUCKET,
    DAY_BUCKETS,
    SPAN_DAYS,
    activity_buckets,
    chat_buckets,
    chat_word_days,
    chat_words,
    member_days,
    member_months,
    member_word_spans,
    member_words,
    messages,
    replies_received,
    reply_buckets,
    word_days,
    word_spans,
    word_totals,
)
from tgstats.store.words import split_piece

__all__ = [
    "DAY",
    "AggregateRows",
    "Delta",
    "Msg",
    "added_replies",
    "apply_rows",
    "changed",
    "count_new",
    "erase_member",
    "forget_chats",
    "forget_months",
    "lock_chats",
    "move_reactions",
    "read_ids",
    "read_rows",
    "try_lock_chat",
]

DAY = 86_400
_CHUNK = 500  # ids per IN list: under SQLite's bound-parameter limit, short plans
# Whitespace-separated piece -> its words, shared by every write: chats repeat
# themselves, so most pieces skip the regular expressions.  Bounded.
_PIECES: dict[str, list[str]] = {}
_PIECE_CACHE = 100_000


class Msg(NamedTuple):
    """The columns of a message the aggregates depend on."""

    message_id: int
    user_id: int | None
    date: int
    text: str
    reply_to: int | None
    reaction_count: int
    counted: bool


def _msg(row: Sequence[Any]) -> Msg:
    return Msg(row[0], row[1], int(row[2]), row[3] or "", row[4], int(row[5] or 0), bool(row[6]))


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def _select(
    connection: Connection,
    columns: str,
    chat_id: int,
    column: str,
    ids: Iterable[int],
    extra: str = "",
) -> Iterable[Sequence[Any]]:
    """Rows of one chat whose ``column`` is among ``ids``, in chunks.

    Plain driver SQL: SQLAlchemy's expanding IN costs milliseconds a call,
    more than SQLite's own work for a page of messages.
    """
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    for chunk in _chunks(ids):
        marks = ", ".join([mark] * len(chunk))
        yield from connection.exec_driver_sql(
            f"SELECT {columns} FROM {messages.name} "
            f"WHERE chat_id = {mark} AND {column} IN ({marks}){extra}",
            (chat_id, *chunk),
        )


def read_rows(connection: Connection, chat_id: int, ids: Iterable[int]) -> dict[int, Msg]:
    """The stored messages among ``ids`` of one chat (missing ids are absent)."""
    columns = "message_id, user_id, date, text, reply_to_message_id, reaction_count, counted"
    return {row[0]: _msg(row) for row in _select(connection, columns, chat_id, "message_id", ids)}


def read_ids(connection: Connection, chat_id: int, ids: Iterable[int]) -> list[int]:
    """The ids among ``ids`` of messages stored in the chat."""
    return [row[0] for row in _select(connection, "message_id", chat_id, "message_id", ids)]


def _senders(connection: Connection, chat_id: int, ids: Iterable[int]) -> dict[int, int | None]:
    """message id -> sender of the stored messages among ``ids``."""
    rows = _select(connection, "message_id, user_id", chat_id, "message_id", ids)
    return {row[0]: row[1] for row in rows}


def _replies_to(connection: Connection, chat_id: int, ids: Iterable[int]) -> list[Msg]:
    """The counted stored replies to any of ``ids``, without text or reactions.

    Only columns of the reply index are read: asking for the text as well
    made SQLite walk the chat's whole primary key for each batch.
    """
    rows = _select(
        connection,
        "message_id, user_id, date, reply_to_message_id",
        chat_id,
        "reply_to_message_id",
        ids,
        " AND counted",
    )
    return [Msg(i, u, int(d), "", r, 0, True) for i, u, d, r in rows]


def lock_chats(connection: Connection, chat_ids: Iterable[int]) -> None:
    """Serialise aggregate writers of these chats until the transaction ends (PostgreSQL)."""
    if connection.dialect.name != "postgresql":
        return
    for chat_id in sorted(set(chat_ids)):  # one order everywhere: no deadlocks
        connection.exec_driver_sql(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (_lock_key(chat_id),)
        )


def try_lock_chat(connection: Connection, chat_id: int) -> bool:
    """Take the chat's writer lock until the transaction ends if no one holds it
    (PostgreSQL; elsewhere True): what a reader that caches takes."""
    if connection.dialect.name != "postgresql":
        return True
    return bool(
        connection.exec_driver_sql(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", (_lock_key(chat_id),)
        ).scalar()
    )


def _lock_key(chat_id: int) -> str:
    return f"tgstats-chat:{chat_id}"


class Delta:
    """Changes to the aggregate rows, collected in Python and applied in a few statements."""

    def __init__(self) -> None:
        self.activity: dict[tuple[int, int, int], list[int]] = defaultdict(lambda: [0, 0])
        self.replies: Counter[tuple[int, int, int, int]] = Counter()
        # (chat, day, user) -> texts added and texts taken away; split in apply().
        self._texts: dict[tuple[int, int, int], tuple[list[str], list[str]]] = defaultdict(
            lambda: ([], [])
        )

    def message(self, chat_id: int, m: Msg, sign: int, *, words: bool = True) -> None:
        """Add (sign 1) or take away (-1) a message's counts, reactions and words."""
        if not m.counted:
            return
        cell = self.activity[(chat_id, m.date // BUCKET, m.user_id or 0)]
        cell[0] += sign
        cell[1] += sign * m.reaction_count
        if words and m.text:
            self.words(chat_id, m, sign)

    def words(self, chat_id: int, m: Msg, sign: int) -> None:
        if m.counted and m.text:
            texts = self._texts[(chat_id, m.date // DAY, m.user_id or 0)]
            (texts[0] if sign > 0 else texts[1]).append(m.text)

    def reply(self, chat_id: int, m: Msg, parent_user: int | None, sign: int) -> None:
        """The reply pair of ``m`` (to a parent sent by ``parent_user``), if it makes one."""
        if (
            m.counted
            and m.reply_to is not None
            and m.user_id is not None
            and parent_user is not None
            and parent_user != m.user_id
        ):
            self.replies[(chat_id, m.date // BUCKET, m.user_id, parent_user)] += sign

    def apply(self, connection: Connection) -> None:
        apply_rows(connection, self.rows())

    def rows(self) -> AggregateRows:
        """The rows to add to each aggregate table (the Python half of apply)."""
        activity = sorted(((*key, n, r)) for key, (n, r) in self.activity.items() if n or r)
        per_chat: dict[tuple[int, int], int] = defaultdict(int)
        for (chat_id, bucket, _user), (n, _r) in self.activity.items():
            per_chat[(chat_id, bucket)] += n
        chat_rows = sorted((*key, n) for key, n in per_chat.items() if n)
        member_days, shrunk = _member_day_rows(self.activity)
        replies = sorted((*key, n) for key, n in self.replies.items() if n)
        received: Counter[tuple[int, int, int]] = Counter()
        for (chat_id, bucket, _from, to), n in self.replies.items():
            received[(chat_id, bucket // DAY_BUCKETS, to)] += n
        received_rows = sorted((*key, n) for key, n in received.items() if n)
        words: list[tuple[int, int, int, str, int]] = []
        spans: dict[tuple[int, int, str], int] = defaultdict(int)
        member_spans: dict[tuple[int, int, int, str], int] = defaultdict(int)
        totals: list[tuple[int, int, int, int]] = []
        chat_days: dict[tuple[int, int, str], int] = defaultdict(int)
        # Keys in order, then each key's words in order: the rows come out sorted
        # (B-tree locality, one lock order on PostgreSQL) without sorting every row.
        for key in sorted(self._texts):
            chat_id, day, user_id = key
            counts = _word_counts(*self._texts[key])
            span = day // SPAN_DAYS
            if summed := sum(counts.values()):
                totals.append((chat_id, day, user_id, summed))
            for word in sorted(counts):
                n = counts[word]
                if n:
                    words.append((chat_id, day, user_id, word, n))
                    chat_days[(chat_id, day, word)] += n
                    spans[(chat_id, span, word)] += n
                    member_spans[(chat_id, user_id, span, word)] += n
        span_rows = sorted((*key, n) for key, n in spans.items() if n)
        chat_day_rows = sorted((*key, n) for key, n in chat_days.items() if n)
        member_span_rows = sorted((*key, n) for key, n in member_spans.items() if n)
        # All-time totals per member and per chat, from the same counts.
        per_member: dict[tuple[int, int, str], int] = defaultdict(int)
        per_chat_word: dict[tuple[int, str], int] = defaultdict(int)
        for chat_id, _day, user_id, word, n in words:
            per_member[(chat_id, user_id, word)] += n
            per_chat_word[(chat_id, word)] += n
        member_word_rows = sorted((*key, n) for key, n in per_member.items() if n)
        chat_word_rows = sorted((*key, n) for key, n in per_chat_word.items() if n)
        return AggregateRows(
            activity,
            chat_rows,
            member_days,
            shrunk,
            replies,
            received_rows,
            span_rows,
            words,
            member_word_rows,
            chat_word_rows,
            member_span_rows,
            totals,
            chat_day_rows,
        )


class AggregateRows(NamedTuple):
    """Rows to add to the aggregate tables: key columns, then the amounts.

    Plain tuples: the importer's reader process makes them for a batch of new
    messages (:func:`count_new`) and pickles them to the writer.
    """

    activity: list[tuple[int, int, int, int, int]]
    chats: list[tuple[int, int, int]]
    # chat, day, member, messages, reactions, first and last bucket
    member_days: list[tuple[int, int, int, int, int, int, int]]
    member_days_shrunk: list[tuple[int, int, int]]  # days that lost messages
    replies: list[tuple[int, int, int, int, int]]
    received: list[tuple[int, int, int, int]]
    spans: list[tuple[int, int, str, int]]
    words: list[tuple[int, int, int, str, int]]
    member_words: list[tuple[int, int, str, int]]  # all-time, per member
    chat_words: list[tuple[int, str, int]]  # all-time, per chat
    member_spans: list[tuple[int, int, int, str, int]]  # chat, member, span, word, count
    word_totals: list[tuple[int, int, int, int]]  # chat, day, member, words
    chat_word_days: list[tuple[int, int, str, int]]  # chat, day, word, count


def apply_rows(connection: Connection, rows: AggregateRows) -> None:
    """Add ``rows`` to the aggregate tables (the SQL half of Delta.apply)."""
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    forget_months(connection, mark, rows)
    _add(connection, mark, activity_buckets.name, ("messages", "reactions"), rows.activity)
    _add(connection, mark, chat_buckets.name, ("messages",), rows.chats)
    _member_days(connection, mark, rows.member_days, rows.member_days_shrunk)
    _add(connection, mark, reply_buckets.name, ("replies",), rows.replies)
    _add(connection, mark, replies_received.name, ("replies",), rows.received)
    _add(connection, mark, word_spans.name, ("count",), rows.spans)
    _add(connection, mark, member_word_spans.name, ("count",), rows.member_spans)
    _add(connection, mark, word_days.name, ("count",), rows.words)
    _add(connection, mark, member_words.name, ("count",), rows.member_words)
    _add(connection, mark, chat_words.name, ("count",), rows.chat_words)
    _add(connection, mark, word_totals.name, ("words",), rows.word_totals)
    _add(connection, mark, chat_word_days.name, ("count",), rows.chat_word_days)


def forget_months(connection: Connection, mark: str, rows: AggregateRows) -> None:
    """Drop the cached months (tgstats.store.month_cache) whose member days or
    replies received ``rows`` changes: per chat, those overlapping the UTC days
    from the first such row to the last.  Live recording touches only today,
    which no cached month reaches, so its statement finds nothing."""
    days: dict[int, tuple[int, int]] = {}
    for chat_id, day, *_ in (*rows.member_days, *rows.received):
        first, last = days.get(chat_id, (day, day))
        days[chat_id] = (min(first, day), max(last, day))
    if not days:
        return
    # A month is at most 31 days long: a lower bound on the key, so the range
    # scan of the primary key stays short whatever the chat's history.
    connection.exec_driver_sql(
        f"DELETE FROM {member_months.name} WHERE chat_id = {mark} "
        f"AND month_start > {mark} AND month_start < {mark} AND month_end > {mark}",
        [
            (chat_id, first * DAY - _MONTH, (last + 1) * DAY, first * DAY)
            for chat_id, (first, last) in sorted(days.items())
        ],
    )


def forget_chats(connection: Connection, chat_ids: Iterable[int]) -> None:
    """Drop every cached month of these chats (an erasure, a rebuild)."""
    connection.execute(member_months.delete().where(member_months.c.chat_id.in_(list(chat_ids))))


_MONTH = 32 * DAY


def _word_counts(added: Sequence[str], removed: Sequence[str]) -> dict[str, int]:
    """Word -> count change of texts added and taken away."""
    cache = _PIECES
    counts: dict[str, int] = defaultdict(int)
    for texts, sign in ((added, 1), (removed, -1)):
        if not texts:
            continue
        # One member's texts of one day repeat their pieces: count the pieces
        # at C speed, then look each distinct one up once (measured: a third
        # of the import's Python time went to a per-piece loop).
        for piece, n in Counter(" ".join(texts).split()).items():
            found = cache.get(piece)
            if found is None:
                found = split_piece(piece)
                if len(cache) < _PIECE_CACHE:
                    cache[piece] = found
            for word in found:
                counts[word] += sign * n
    return counts


def count_new(
    chat_id: int, messages: Iterable[tuple[int | None, int, str, int, bool]]
) -> AggregateRows:
    """The aggregate rows of adding new messages of ``chat_id`` (no reply pairs: a
    parent may be stored, that needs the database), each message given as
    (user_id, date, text, reaction_count, counted); what Delta.message(m, 1) adds."""
    delta = Delta()
    activity, texts = delta.activity, delta._texts
    for user_id, date, text, reactions, counted in messages:
        if not counted:
            continue
        user = user_id or 0
        cell = activity[(chat_id, date // BUCKET, user)]
        cell[0] += 1
        cell[1] += reactions
        if text:
            texts[(chat_id, date // DAY, user)][0].append(text)
    return delta.rows()


def _add(
    connection: Connection,
    mark: str,
    table: str,
    values: tuple[str, ...],
    rows: list[tuple[Any, ...]],
) -> None:
    """Add ``rows`` (key columns, then ``values``) to ``table``; drop rows that reach zero."""
    if not rows:
        return
    keys = _KEYS[table]
    columns = keys + values
    sets = ", ".join(f"{v} = {table}.{v} + excluded.{v}" for v in values)
    connection.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}",
        rows,
    )
    # Only a decrease can bring a row to zero.
    width = len(keys)
    shrunk = [row[:width] for row in rows if row[width] < 0 or row[-1] < 0]
    if shrunk:
        match = " AND ".join(f"{k} = {mark}" for k in keys)
        connection.exec_driver_sql(
            f"DELETE FROM {table} WHERE {match} AND {values[0]} <= 0", shrunk
        )


def _member_day_rows(
    activity: Mapping[tuple[int, int, int], list[int]],
) -> tuple[list[tuple[int, int, int, int, int, int, int]], list[tuple[int, int, int]]]:
    """The agg_member_days rows of activity changes, and the days that lost messages."""
    days: dict[tuple[int, int, int], list[int]] = {}
    for (chat_id, bucket, user_id), (n, r) in activity.items():
        if not n and not r:
            continue
        key = (chat_id, bucket // DAY_BUCKETS, user_id)
        cell = days.get(key)
        if cell is None:
            # messages, reactions, first, last, whether any bucket lost messages
            cell = days[key] = [0, 0, bucket, bucket, 0]
        cell[0] += n
        cell[1] += r
        cell[2] = min(cell[2], bucket)
        cell[3] = max(cell[3], bucket)
        if n < 0:
            cell[4] = 1
    ordered = sorted(days.items())
    rows = [(*key, n, r, first, last) for key, (n, r, first, last, _) in ordered]
    return rows, [key for key, cell in ordered if cell[4]]


def _member_days(
    connection: Connection,
    mark: str,
    days: list[tuple[int, int, int, int, int, int, int]],
    shrunk: list[tuple[int, int, int]],
) -> None:
    """Move agg_member_days with the activity changes (after agg_activity moved).

    Sums add like the other tables; the first and last bucket only widen on an
    addition.  A member-day that lost messages may have lost its first or last
    bucket, so those few rows take both again from agg_activity.
    """
    if not days:
        return
    least, greatest = ("min", "max") if mark == "?" else ("LEAST", "GREATEST")
    t = member_days.name
    connection.exec_driver_sql(
        f"INSERT INTO {t} (chat_id, day, user_id, messages, reactions, first_bucket, last_bucket) "
        f"VALUES ({', '.join([mark] * 7)}) ON CONFLICT (chat_id, day, user_id) DO UPDATE SET "
        f"messages = {t}.messages + excluded.messages, "
        f"reactions = {t}.reactions + excluded.reactions, "
        f"first_bucket = {least}({t}.first_bucket, excluded.first_bucket), "
        f"last_bucket = {greatest}({t}.last_bucket, excluded.last_bucket)",
        days,
    )
    if not shrunk:
        return
    match = f"chat_id = {mark} AND day = {mark} AND user_id = {mark}"
    connection.exec_driver_sql(f"DELETE FROM {t} WHERE {match} AND messages <= 0", shrunk)
    a = activity_buckets.name
    inside = (
        f"FROM {a} WHERE chat_id = {t}.chat_id AND user_id = {t}.user_id "
        f"AND bucket >= {t}.day * {DAY_BUCKETS} AND bucket < ({t}.day + 1) * {DAY_BUCKETS}"
    )
    connection.exec_driver_sql(
        f"UPDATE {t} SET first_bucket = (SELECT min(bucket) {inside}), "
        f"last_bucket = (SELECT max(bucket) {inside}) WHERE {match}",
        shrunk,
    )


_KEYS: dict[str, tuple[str, ...]] = {
    activity_buckets.name: ("chat_id", "bucket", "user_id"),
    chat_buckets.name: ("chat_id", "bucket"),
    reply_buckets.name: ("chat_id", "bucket", "from_user_id", "to_user_id"),
    replies_received.name: ("chat_id", "day", "user_id"),
    member_words.name: ("chat_id", "user_id", "word"),
    chat_words.name: ("chat_id", "word"),
    word_days.name: ("chat_id", "day", "user_id", "word"),
    word_spans.name: ("chat_id", "span", "word"),
    member_word_spans.name: ("chat_id", "user_id", "span", "word"),
    word_totals.name: ("chat_id", "day", "user_id"),
    chat_word_days.name: ("chat_id", "day", "word"),
}


def changed(
    connection: Connection,
    chat_id: int,
    before: Mapping[int, Msg | None],
    after: Mapping[int, Msg | None],
    delta: Delta,
) -> None:
    """Add to ``delta`` what turning ``before`` into ``after`` does to the aggregates.

    Both map the same message ids of one chat to the row (None: not stored);
    every other message of the chat must be the same before and after.
    """
    touched = set(before)
    outside = {
        m.reply_to
        for m in (*before.values(), *after.values())
        if m is not None and m.counted and m.reply_to is not None and m.reply_to not in touched
    }
    stored = _senders(connection, chat_id, outside)

    def parent(m: Msg, state: Mapping[int, Msg | None]) -> int | None:
        if m.reply_to is None:
            return None
        if m.reply_to in touched:
            row = state.get(m.reply_to)
            return row.user_id if row is not None else None
        return stored.get(m.reply_to)

    for message_id in touched:
        old, new = before[message_id], after.get(message_id)
        if old is not None and new is not None and old == new:
            # Unchanged itself; only its parent may have come or gone.
            if new.reply_to in touched:
                delta.reply(chat_id, old, parent(old, before), -1)
                delta.reply(chat_id, new, parent(new, after), 1)
            continue
        same_words = (
            old is not None
            and new is not None
            and old.counted == new.counted
            and old.text == new.text
            and old.date // DAY == new.date // DAY
            and old.user_id == new.user_id
        )
        if old is not None:
            delta.message(chat_id, old, -1, words=not same_words)
            delta.reply(chat_id, old, parent(old, before), -1)
        if new is not None:
            delta.message(chat_id, new, 1, words=not same_words)
            delta.reply(chat_id, new, parent(new, after), 1)
    appeared = [i for i in touched if (before[i] is None) != (after.get(i) is None)]
    if appeared:
        for child in _replies_to(connection, chat_id, appeared):
            if child.message_id in touched or child.reply_to is None:
                continue
            old_parent, new_parent = before[child.reply_to], after.get(child.reply_to)
            delta.reply(chat_id, child, old_parent.user_id if old_parent else None, -1)
            delta.reply(chat_id, child, new_parent.user_id if new_parent else None, 1)


def added_replies(
    connection: Connection,
    chat_id: int,
    senders: Mapping[int, int | None],
    replies: Iterable[Msg],
    delta: Delta,
) -> None:
    """The reply pairs :func:`changed` finds when every message is new, for a caller
    that added their other counts already (:func:`count_new`, :func:`apply_rows`).

    ``senders``: each new message's id -> its sender; ``replies``: those of
    the new messages that reply to one.  No Msg is needed for the others:
    for a first import that is most of the writer's Python time saved.
    """
    replies = list(replies)
    outside = {
        m.reply_to
        for m in replies
        if m.counted and m.reply_to is not None and m.reply_to not in senders
    }
    stored = _senders(connection, chat_id, outside)
    for m in replies:
        if m.reply_to is not None:
            parent = senders[m.reply_to] if m.reply_to in senders else stored.get(m.reply_to)
            delta.reply(chat_id, m, parent, 1)
    # Stored replies to a message that only now appears gain their pair.
    for child in _replies_to(connection, chat_id, senders):
        if child.message_id not in senders and child.reply_to is not None:
            delta.reply(chat_id, child, senders[child.reply_to], 1)


def move_reactions(connection: Connection, chat_id: int, message_id: int, value: Any) -> bool:
    """Set one message's reaction count to ``value`` (a number, or SQL of the old
    count) and move the aggregates with it; False if it is not stored or unchanged."""
    lock_chats(connection, [chat_id])
    before = read_rows(connection, chat_id, [message_id]).get(message_id)
    if before is None:
        return False
    connection.execute(
        update(messages)
        .where(messages.c.chat_id == chat_id, messages.c.message_id == message_id)
        .values(reaction_count=value)
    )
    after = read_rows(connection, chat_id, [message_id])[message_id]
    if after == before:
        return False
    delta = Delta()
    changed(connection, chat_id, {message_id: before}, {message_id: after}, delta)
    delta.apply(connection)
    return True


def erase_member(connection: Connection, chat_ids: Sequence[int], user_id: int) -> None:
    """Drop every aggregate of ``user_id`` in ``chat_ids`` (their messages are being deleted).

    Call it in the transaction that deletes the messages (before or after the
    DELETE: it reads only the aggregates): afterwards the member
    has no message in these chats, so no count, word, reaction or reply pair
    (either way) of theirs can remain.  Reactions others left on their messages
    go with those messages.
    """
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    member = f"WHERE chat_id = {mark} AND user_id = {mark}"
    # The chat-wide tables lose exactly the member's messages and words, and
    # the others' replies received lose the replies the member sent them:
    # (table, value column, SELECT of the member's part as its key and amount).
    shares = (
        (
            chat_buckets,
            "messages",
            f"SELECT bucket, messages FROM {activity_buckets.name} {member}",
        ),
        (word_spans, "count", f"SELECT span, word, count FROM {member_word_spans.name} {member}"),
        (chat_words, "count", f"SELECT word, count FROM {member_words.name} {member}"),
        (chat_word_days, "count", f"SELECT day, word, count FROM {word_days.name} {member}"),
        (
            replies_received,
            "replies",
            f"SELECT bucket / {DAY_BUCKETS}, to_user_id, sum(replies) FROM {reply_buckets.name} "
            f"WHERE chat_id = {mark} AND from_user_id = {mark} GROUP BY 1, 2",
        ),
    )
    for chat_id in chat_ids:
        for table, value, sql in shares:
            rows = connection.exec_driver_sql(sql, (chat_id, user_id)).all()
            taken = sorted((chat_id, *row[:-1], -int(row[-1])) for row in rows)
            _add(connection, mark, table.name, (value,), taken)
    forget_chats(connection, chat_ids)  # the others' replies received change too
    for table in (
        activity_buckets,
        member_days,
        replies_received,
        word_days,
        member_words,
        member_word_spans,
        word_totals,
    ):
        connection.execute(
            table.delete().where(table.c.chat_id.in_(chat_ids), table.c.user_id == user_id)
        )
    connection.execute(
        reply_buckets.delete().where(
            reply_buckets.c.chat_id.in_(chat_ids),
            (reply_buckets.c.from_user_id == user_id) | (reply_buckets.c.to_user_id == user_id),
        )
    )
