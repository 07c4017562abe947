"""Stickers' emoji (schema version 5): the check every path applies, the member query
on SQLite and PostgreSQL, edits, and the upgrade of a version 4 store."""

from __future__ import annotations

import pytest
import sqlalchemy
import telegram
from tgstats.plugins import EmojiCount, MemberStickers
from tgstats.store import SCHEMA_VERSION, Store, open_store
from tgstats.store.stickers import STICKER_EMOJI_MAX, sticker_emoji
from tgstats.testing import fill_store, make_chat, make_message, make_sticker, make_user, utc

from .old_versions import undo_version_5

GROUP = make_chat(-100730, "Old group", type="group")
CHAT = make_chat(-100731, "Sticker club")  # the supergroup GROUP became
ALICE, BOB = make_user(1, "Alice"), make_user(2, "Bob")
BOT = telegram.User(id=9, first_name="Botty", is_bot=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("😂", "😂"),
        ("❤️", "❤️"),  # with its variation selector
        ("👨🏻‍👩🏻‍👧🏻‍👦🏻", "👨🏻‍👩🏻‍👧🏻‍👦🏻"),  # 11 code points: the longest kind
        ("🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"),  # a subdivision flag keeps its tag characters
        (None, None),
        ("", None),
        ("\n\t\x1b[31m", "[31m"),  # control characters dropped, the rest is what it is
        ("\u202e😂\u2066", "😂"),  # bidi overrides and isolates dropped
        ("\x00😂\ud800", "😂\ufffd"),  # NUL and a lone surrogate, as for any text
        (" \x07 ", None),
    ],
)
def test_what_is_kept_of_a_sticker_emoji(value: object, expected: str | None) -> None:
    assert sticker_emoji(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (42, "expected a string, found int"),
        (["😂"], "expected a string, found list"),
        (True, "expected a string, found bool"),
        ("😂" * 5000, "expected one emoji, found 5,000 characters"),
        ("x" * (STICKER_EMOJI_MAX + 1), f"found {STICKER_EMOJI_MAX + 1} characters"),
    ],
)
def test_values_no_sticker_has_are_refused(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sticker_emoji(value)


@pytest.fixture
def stickers(store: Store) -> Store:
    """Alice's stickers in the old group and, after the upgrade, in the supergroup."""
    fill_store(
        store,
        [
            make_sticker(GROUP, ALICE, "😂", date="2026-01-10T10:00:00Z"),
            make_sticker(GROUP, ALICE, "👍", date="2026-01-10T10:01:00Z"),
            make_message(GROUP, ALICE, "text, not a sticker", date="2026-01-10T10:02:00Z"),
        ],
    )
    store.migrate_chat(GROUP.id, CHAT.id)
    fill_store(
        store,
        [
            make_sticker(CHAT, ALICE, "😂", date="2026-03-01T10:00:00Z"),
            make_sticker(CHAT, ALICE, "🔥", date="2026-03-01T10:01:00Z"),
            make_sticker(CHAT, ALICE, "🔥", date="2026-03-02T10:00:00Z"),
            make_sticker(CHAT, ALICE, "😂", date="2026-03-02T10:01:00Z"),
            # Without an emoji: counted, but not a favourite.
            make_sticker(CHAT, ALICE, None, date="2026-03-03T10:00:00Z"),
            make_sticker(CHAT, ALICE, "🔥", date="2026-03-03T10:01:00Z"),
            make_sticker(CHAT, BOB, "🐱", date="2026-03-03T10:02:00Z"),
            make_sticker(CHAT, BOT, "🤖", date="2026-03-03T10:03:00Z"),  # a bot's: not counted
            make_message(CHAT, ALICE, "😂 in a text is no sticker", date="2026-03-04T10:00:00Z"),
        ],
    )
    return store


def test_favourite_stickers_in_sql(stickers: Store) -> None:
    q = stickers.queries
    # The supergroup's family includes the old group: 😂 twice there and twice here.
    # Ties in code point order on both backends: 🔥 (U+1F525) before 😂 (U+1F602).
    assert q.member_stickers(CHAT.id, ALICE.id) == MemberStickers(
        stickers=8,
        top=[EmojiCount("🔥", 3), EmojiCount("😂", 3), EmojiCount("👍", 1)],
    )
    assert [e.emoji for e in q.member_stickers(CHAT.id, ALICE.id, limit=2).top] == ["🔥", "😂"]
    # The old group alone knows only what was sent there.
    assert q.member_stickers(GROUP.id, ALICE.id) == MemberStickers(
        stickers=2, top=[EmojiCount("👍", 1), EmojiCount("😂", 1)]
    )
    # A period: from 2 March on.
    assert q.member_stickers(CHAT.id, ALICE.id, since=utc("2026-03-02T00:00:00Z")) == (
        MemberStickers(stickers=4, top=[EmojiCount("🔥", 2), EmojiCount("😂", 1)])
    )
    assert q.member_stickers(
        CHAT.id, ALICE.id, since=utc("2026-03-01T10:00:30Z"), until=utc("2026-03-02T10:00:30Z")
    ) == MemberStickers(stickers=2, top=[EmojiCount("🔥", 2)])
    assert q.member_stickers(CHAT.id, BOT.id) == MemberStickers(stickers=0, top=[])
    assert q.member_stickers(CHAT.id, ALICE.id, limit=0).top == []
    assert len(q.member_stickers(CHAT.id, ALICE.id, limit=10**9).top) == 3


def test_excluded_and_opted_out_members_have_none(stickers: Store) -> None:
    q = stickers.queries
    assert q.member_stickers(CHAT.id, BOB.id).top == [EmojiCount("🐱", 1)]
    stickers.settings.exclude(CHAT.id, BOB.id, by=ALICE.id)
    assert q.member_stickers(CHAT.id, BOB.id) == MemberStickers(stickers=0, top=[])
    stickers.opt_out(CHAT.id, ALICE.id)  # erases the old group's rows too
    assert q.member_stickers(CHAT.id, ALICE.id) == MemberStickers(stickers=0, top=[])
    assert q.member_stickers(GROUP.id, ALICE.id) == MemberStickers(stickers=0, top=[])


def test_an_edit_keeps_the_row_consistent(store: Store) -> None:
    first = make_sticker(CHAT, ALICE, "😂", date="2026-03-01T10:00:00Z", message_id=5)
    fill_store(store, [first])
    # Telegram cannot edit a sticker; a forged edit of the same message with
    # another emoji is applied like any edit (the newest one wins) ...
    edited = make_sticker(
        CHAT,
        ALICE,
        "🔥",
        date="2026-03-01T10:00:00Z",
        message_id=5,
        edit_date="2026-03-01T10:05:00Z",
    )
    store.record_message(edited)
    assert [r.sticker_emoji for r in store.queries.messages(CHAT.id)] == ["🔥"]
    # ... and an edit that turns the message into text leaves no emoji behind.
    text = make_message(
        CHAT, ALICE, "now text", date="2026-03-01T10:00:00Z", message_id=5,
        edit_date="2026-03-01T10:06:00Z",
    )  # fmt: skip
    store.record_message(text)
    [row] = store.queries.messages(CHAT.id)
    assert (row.media_kind, row.sticker_emoji, row.text) == (None, None, "now text")
    assert store.queries.member_stickers(CHAT.id, ALICE.id).stickers == 0


def _as_version_4(url: str) -> None:
    """What tgstats left at schema version 4: no emoji column, no partial indexes, and
    a sticker, a reply and a text stored then."""
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        undo_version_5(connection)
        for ddl in (
            "UPDATE tgstats_schema_version SET version = 4",
            "INSERT INTO chats (chat_id, title) VALUES (-100740, 'Before')",
            "INSERT INTO messages (chat_id, message_id, user_id, date, text, "
            "reply_to_message_id, media_kind, reaction_count, counted) VALUES "
            "(-100740, 1, 1, 1772445600, 'hello', NULL, NULL, 0, true), "
            "(-100740, 2, 1, 1772445660, '', NULL, 'sticker', 0, true), "
            "(-100740, 3, 2, 1772445720, 'hi', 1, NULL, 0, true)",
        ):
            connection.execute(sqlalchemy.text(ddl))
    engine.dispose()


def _indexes(store: Store) -> dict[str, tuple[list[str], str]]:
    """Index name -> (columns, partial condition) of the messages table."""
    found = {}
    for ix in sqlalchemy.inspect(store.engine).get_indexes("messages"):
        options = ix.get("dialect_options", {})
        where = options.get("sqlite_where", options.get("postgresql_where"))
        found[str(ix["name"])] = (list(ix["column_names"]), "" if where is None else str(where))
    return found


def _normal(condition: str) -> str:
    """PostgreSQL spells ``media_kind = 'sticker'`` with a cast and brackets."""
    return condition.replace("(", "").replace(")", "").replace("::text", "")


def test_a_version_4_store_gets_the_column_and_indexes(store_url: str) -> None:
    open_store(store_url).close()
    _as_version_4(store_url)
    with open_store(store_url) as store:
        with store.engine.connect() as connection:
            version = connection.execute(
                sqlalchemy.text("SELECT version FROM tgstats_schema_version")
            ).scalar_one()
        assert version == SCHEMA_VERSION
        rows = [
            (r.message_id, r.text, r.media_kind, r.sticker_emoji)
            for r in store.queries.messages(-100740)
        ]
        assert rows == [(1, "hello", None, None), (2, "", "sticker", None), (3, "hi", None, None)]
        # The old sticker counts; its emoji was never kept, so it is no favourite.
        assert store.queries.member_stickers(-100740, 1) == MemberStickers(stickers=1, top=[])
        assert store.queries.member_reply_timing(-100740, 2).replies == 1
        _check_partial_indexes(store)
        # New stickers keep their emoji.
        chat = make_chat(-100740, "Before")
        fill_store(
            store, [make_sticker(chat, ALICE, "😂", date="2026-03-02T10:00:00Z", message_id=4)]
        )
        assert store.queries.member_stickers(-100740, 1).top == [EmojiCount("😂", 1)]


def _check_partial_indexes(store: Store) -> None:
    indexes = _indexes(store)
    columns, where = indexes["ix_messages_member_stickers"]
    assert columns == ["chat_id", "user_id", "date", "counted", "sticker_emoji", "media_kind"]
    assert _normal(where) == "media_kind = 'sticker'"
    columns, where = indexes["ix_messages_member_replies"]
    assert columns == ["chat_id", "user_id", "date", "reply_to_message_id", "counted"]
    assert _normal(where) == "reply_to_message_id IS NOT NULL"


def test_a_new_store_has_the_same_partial_indexes(store: Store) -> None:
    _check_partial_indexes(store)


def test_the_sticker_queries_read_only_their_partial_index(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SQLite uses a partial index only when the query repeats its condition as a
    literal: both plans name the stickers' index, covering (no table row is read).

    (The replies' index is not pinned here: without statistics SQLite may as well
    take the (chat, reply) index, at the same cost; PostgreSQL takes the partial one.)
    """
    with open_store(f"sqlite:///{tmp_path / 'plans.db'}") as store:
        fill_store(store, [make_sticker(CHAT, ALICE, "😂", date="2026-03-01T10:00:00Z")])
        statements: list[str] = []

        def keep(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            statements.append(statement)

        sqlalchemy.event.listen(store.engine, "before_cursor_execute", keep)
        store.queries.member_stickers(CHAT.id, ALICE.id)
        sqlalchemy.event.remove(store.engine, "before_cursor_execute", keep)
        raw = store.engine.raw_connection()
        try:
            plans = []
            for statement in statements:
                if "'sticker'" in statement:
                    params = [0] * statement.count("?")  # the plan does not depend on them
                    rows = raw.cursor().execute(f"EXPLAIN QUERY PLAN {statement}", params)
                    plans.append(" | ".join(str(row[-1]) for row in rows.fetchall()))
        finally:
            raw.close()
    assert len(plans) == 2  # the count and the favourites
    for plan in plans:
        assert "SEARCH messages USING COVERING INDEX ix_messages_member_stickers" in plan, plan
