"""Property: whatever sequence of writes, the aggregates equal a recomputation.

Random sequences of live messages (replies to stored, missing and later
messages; commands; bots; messages without a sender), edits (text, into and
out of a command), reactions (per member, redelivered, absolute counts),
opt-outs, imports (overlapping what is stored), re-imports with newer edits
and reaction counts, a group upgraded to a supergroup, and engagement asked
for (which caches whole months that later writes must drop); after each
sequence ``verify`` must find nothing.  On SQLite and PostgreSQL; bounded in
examples and size to stay a few seconds.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import telegram
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from tgstats.store import Store, open_store
from tgstats.store.rebuild import verify
from tgstats.store.schema import metadata, schema_version
from tgstats.testing import make_chat, make_message, make_reaction, make_reaction_count, make_user

GROUP = make_chat(-500, "Group", type="group")
SUPER = make_chat(-1000500, "Super")
BASE = 1_767_225_600  # 2026-01-01 00:00 UTC
USERS = [make_user(i, f"u{i}") for i in (1, 2, 3)]
BOT = telegram.User(id=9, first_name="Bot", is_bot=True)
WORDS = ["alpha", "beta", "gamma", "Alpha", "дом", "/heatmap", "https://x.io", "🔥"]

ids = st.integers(1, 4)
# Mostly within three days (rows meet in one day and bucket); some over two and
# a half months, so whole local months exist for the engagement cache.
dates = st.one_of(st.integers(0, 3 * 86_400), st.integers(0, 75 * 86_400)).map(lambda s: BASE + s)
texts = st.lists(st.sampled_from(WORDS), min_size=0, max_size=4).map(" ".join)
senders = st.sampled_from([*USERS, BOT, None])

insert = st.tuples(
    st.just("insert"), st.sampled_from([GROUP, SUPER]), ids, senders, dates, texts, st.none() | ids
)
edit = st.tuples(st.just("edit"), st.sampled_from([GROUP, SUPER]), ids, texts, st.integers(1, 99))
react = st.tuples(
    st.just("react"),
    st.sampled_from([GROUP, SUPER]),
    ids,
    st.sampled_from(USERS),
    st.lists(st.sampled_from(["👍", "❤"]), max_size=2, unique=True),
    st.lists(st.sampled_from(["👍", "❤"]), max_size=2, unique=True),
)
counts = st.tuples(st.just("count"), st.sampled_from([GROUP, SUPER]), ids, st.integers(0, 5))
opt_out = st.tuples(st.just("optout"), st.sampled_from([GROUP, SUPER]), st.sampled_from(USERS))
import_rows = st.lists(
    st.tuples(ids, st.sampled_from([1, 2, 3, None]), dates, texts, st.none() | ids, st.booleans()),
    max_size=6,
)
imported = st.tuples(st.just("import"), st.sampled_from([GROUP, SUPER]), import_rows, st.booleans())
migrate = st.tuples(st.just("migrate"))
# Engagement asked for: fills the cached months (tgstats.store.month_cache),
# which every later write must keep exact or drop.
ask = st.tuples(
    st.just("ask"),
    st.sampled_from([GROUP, SUPER]),
    st.sampled_from(["UTC", "Asia/Kathmandu", "America/St_Johns"]),
)
operations = st.lists(
    st.one_of(insert, insert, edit, react, counts, opt_out, imported, migrate, ask), max_size=20
)


def _apply(store: Store, op: tuple[Any, ...]) -> None:
    kind = op[0]
    if kind == "insert":
        _, chat, message_id, sender, date, body, reply = op
        parent = make_message(chat, USERS[0], "x", message_id=reply) if reply else None
        message = make_message(
            chat,
            sender,
            body or None,
            message_id=message_id,
            date=date,
            reply_to=parent,
            **({} if body else {"media": "photo"}),
        )
        store.record_messages([message])
    elif kind == "edit":
        _, chat, pick, body, later = op
        # An edit of a stored message (picked by position), or of nothing stored.
        stored = [m for m in store.queries.messages(chat.id) if m.chat_id == chat.id]
        if stored:
            old = stored[pick % len(stored)]
            message_id = old.message_id
            sender = next((u for u in USERS if u.id == old.user_id), BOT)
            message = make_message(
                chat,
                sender,
                body or "edited",
                message_id=message_id,
                date=old.date,
                edit_date=int(old.date.timestamp()) + later,
            )
            store.record_messages([message])
    elif kind == "react":
        _, chat, message_id, user, old, new = op
        store.record_reaction(make_reaction(chat, message_id, user, old=old, new=new))
    elif kind == "count":
        _, chat, message_id, n = op
        store.record_reaction_count(make_reaction_count(chat, message_id, {"👍": n} if n else {}))
    elif kind == "optout":
        store.opt_out(op[1].id, op[2].id)
    elif kind == "import":
        _, chat, rows, refresh = op
        with store.bulk() as batch:
            if refresh:
                batch.start_refresh(chat.id)
            batch.add_messages(
                {
                    "chat_id": chat.id,
                    "message_id": message_id,
                    "user_id": user_id,
                    "date": date,
                    "text": body,
                    "reply_to_message_id": reply,
                    "edit_date": date + 5 if counted else None,
                    "reaction_count": message_id % 3,
                    "counted": counted,
                }
                for message_id, user_id, date, body, reply, counted in rows
            )
            if refresh:
                batch.apply_refresh(reactions=True)
    elif kind == "migrate":
        store.migrate_chat(GROUP.id, SUPER.id)
    elif kind == "ask":
        store.queries.user_activity(op[1].id, tz=ZoneInfo(op[2]))


def _empty(store: Store) -> None:
    with store.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table is not schema_version:
                connection.execute(text(f"DELETE FROM {table.name}"))
    store._forget_seen()


@settings(
    max_examples=50,
    deadline=None,
    # No "explain" phase: it replays a failure hundreds of times (a minute).
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
# A reply stored before its parent (live, then by import), then the parent's
# author opting out; an edit into a command and back.
@example(
    ops=[
        ("insert", SUPER, 2, USERS[0], BASE, "alpha", 1),
        ("insert", SUPER, 1, USERS[1], BASE + 900, "beta", None),
        ("import", SUPER, [(3, 2, BASE, "gamma", 4, True), (4, 3, BASE, "дом", None, True)], False),
        ("optout", SUPER, USERS[1]),
        ("edit", SUPER, 0, "/heatmap", 5),
        ("edit", SUPER, 0, "alpha beta", 9),
    ]
)
# A member who opted out reacts (after a migration carried the opt-out over): the
# message's count moves, and the aggregates' reaction count must move with it.
@example(
    ops=[
        ("optout", GROUP, USERS[0]),
        ("import", SUPER, [(4, 1, BASE, "", None, True)], False),
        ("migrate",),
        ("react", SUPER, 4, USERS[0], [], ["👍"]),
    ]
)
# Whole months cached (February on), then a live message and an import into
# February: the second must drop the months the first refilled.
@example(
    ops=[
        ("insert", SUPER, 1, USERS[0], BASE + 5 * 86_400, "alpha", None),
        ("insert", SUPER, 2, USERS[1], BASE + 40 * 86_400, "beta", 1),
        ("insert", SUPER, 3, USERS[2], BASE + 70 * 86_400, "gamma", None),
        ("ask", SUPER, "UTC"),
        ("insert", SUPER, 4, USERS[0], BASE + 45 * 86_400, "late", 2),
        ("ask", SUPER, "UTC"),
        ("import", SUPER, [(5, 3, BASE + 35 * 86_400, "дом", 1, True)], False),
    ]
)
def test_aggregates_equal_a_recomputation(store_url: str, ops: list[tuple[Any, ...]]) -> None:
    with open_store(store_url) as store:
        _empty(store)
        for op in ops:
            _apply(store, op)
        with store.engine.connect() as connection:
            assert verify(connection) == []
