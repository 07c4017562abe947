"""The aggregate tables on each write path, on SQLite and PostgreSQL (tgstats.store.aggregates)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy
import telegram
from tgstats.cli.main import main
from tgstats.store import SCHEMA_VERSION, Store, open_store
from tgstats.store.rebuild import verify
from tgstats.testing import (
    fill_store,
    make_chat,
    make_message,
    make_reaction,
    make_reaction_count,
    make_user,
)

from .old_versions import as_version, undo_version_5

CHAT = make_chat(-1001300, "Aggregates")
ALICE, BOB = make_user(1, "Alice"), make_user(2, "Bob")
BASE = 1_767_229_200  # 2026-01-01 01:00 UTC


def table(store: Store, name: str) -> list[tuple[Any, ...]]:
    with store.engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text(f"SELECT * FROM {name}")).all()
    return sorted(tuple(row) for row in rows)


def words(store: Store) -> dict[str, int]:
    return {row[3]: row[4] for row in table(store, "agg_words")}


def assert_exact(store: Store) -> None:
    with store.engine.connect() as connection:
        assert verify(connection) == []


def test_an_edit_moves_words_and_one_into_a_command_leaves_the_counts(store: Store) -> None:
    fill_store(store, [make_message(CHAT, ALICE, "Apples and pears", message_id=1)])
    assert words(store) == {"apples": 1, "and": 1, "pears": 1}
    fill_store(
        store,
        [make_message(CHAT, ALICE, "apples, plums", message_id=1, edit_date="2026-01-01T12:05Z")],
    )
    assert words(store) == {"apples": 1, "plums": 1}
    command = make_message(
        CHAT,
        ALICE,
        "/heatmap 30",
        message_id=1,
        edit_date="2026-01-01T12:06Z",
        entities=[telegram.MessageEntity(type="bot_command", offset=0, length=8)],
    )
    fill_store(store, [command])
    assert table(store, "agg_activity") == [] and words(store) == {}
    assert_exact(store)


def test_a_redelivered_reaction_is_counted_once(store: Store) -> None:
    fill_store(store, [make_message(CHAT, ALICE, "nice", message_id=8)])
    update = make_reaction(CHAT, 8, BOB, new=["👍", "❤"])
    assert store.record_reaction(update)
    assert not store.record_reaction(update)  # Telegram sent it again after a crash
    [(_, _, user, messages, reactions)] = table(store, "agg_activity")
    assert (user, messages, reactions) == (ALICE.id, 1, 2)
    store.record_reaction_count(make_reaction_count(CHAT, 8, {"👍": 7}))
    assert table(store, "agg_activity")[0][4] == 7
    assert_exact(store)


def test_replies_follow_their_parent_in_and_out(store: Store) -> None:
    parent = make_message(CHAT, ALICE, "question", message_id=1)
    reply = make_message(CHAT, BOB, "answer", message_id=2, reply_to=parent)
    fill_store(store, [reply])  # the parent is not stored: no pair yet
    assert table(store, "agg_replies") == []
    with store.bulk() as batch:  # imported later
        batch.add_messages(
            [{"chat_id": CHAT.id, "message_id": 1, "user_id": ALICE.id, "date": 1767268800}]
        )
    [(_, _, who, whom, n)] = table(store, "agg_replies")
    assert (who, whom, n) == (BOB.id, ALICE.id, 1)
    store.opt_out(CHAT.id, ALICE.id)
    assert table(store, "agg_replies") == []
    assert [row[2] for row in table(store, "agg_activity")] == [BOB.id]
    assert_exact(store)


def test_a_migrated_group_keeps_its_aggregates(store: Store) -> None:
    group = make_chat(-4001, "Old", type="group")
    supergroup = make_chat(-1004001, "New")
    fill_store(store, [make_message(group, ALICE, "before", message_id=1)])
    store.migrate_chat(group.id, supergroup.id)
    fill_store(store, [make_message(supergroup, BOB, "after", message_id=1)])
    assert [row[0] for row in table(store, "agg_activity")] == [supergroup.id, group.id]
    store.opt_out(supergroup.id, ALICE.id)  # erases the old group's history too
    assert [row[0] for row in table(store, "agg_activity")] == [supergroup.id]
    assert_exact(store)


def _as_version_2(url: str) -> None:
    """What tgstats left before the aggregates: no tables of them, version 2, some messages."""
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        undo_version_5(connection)
        for name in (
            "agg_activity",
            "agg_chat_activity",
            "agg_replies",
            "agg_words",
            "agg_word_spans",
        ):
            connection.execute(sqlalchemy.text(f"DROP TABLE {name}"))
        for ddl in (
            "UPDATE tgstats_schema_version SET version = 2",
            "INSERT INTO chats (chat_id, title) VALUES (-100800, 'Old')",
            "INSERT INTO messages (chat_id, message_id, user_id, date, text, "
            "reply_to_message_id, reaction_count, counted) VALUES "
            "(-100800, 1, 1, 1772445600, 'hello world', NULL, 2, true), "
            "(-100800, 2, 2, 1772445660, 'hello back', 1, 0, true), "
            "(-100800, 3, 2, 1772445720, '/heatmap', NULL, 0, false)",
        ):
            connection.execute(sqlalchemy.text(ddl))
    engine.dispose()


def test_a_version_2_store_gets_its_aggregates_built(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    open_store(store_url).close()
    _as_version_2(store_url)
    with open_store(store_url) as store:
        with store.engine.connect() as connection:
            version = connection.execute(
                sqlalchemy.text("SELECT version FROM tgstats_schema_version")
            ).scalar_one()
        assert version == SCHEMA_VERSION
        assert [row[2:] for row in table(store, "agg_activity")] == [(1, 1, 2), (2, 1, 0)]
        assert [row[2:] for row in table(store, "agg_replies")] == [(2, 1, 1)]
        assert words(store)["hello"] == 1 and "heatmap" not in words(store)
        assert_exact(store)
    assert "Building statistics aggregates" in capsys.readouterr().err


def test_a_version_3_store_gets_its_member_days_from_the_buckets(store_url: str) -> None:
    with open_store(store_url) as store:
        fill_store(
            store,
            [
                make_message(CHAT, ALICE, "one", message_id=1, date=BASE),
                make_message(CHAT, ALICE, "two", message_id=2, date=BASE + 5 * 3600),
                make_message(CHAT, BOB, "three", message_id=3, date=BASE + 86_400),
            ],
        )
        before = table(store, "agg_member_days")
    engine = sqlalchemy.create_engine(store_url)
    with engine.begin() as connection:
        undo_version_5(connection)
        connection.execute(sqlalchemy.text("DROP TABLE agg_member_days"))
        connection.execute(sqlalchemy.text("UPDATE tgstats_schema_version SET version = 3"))
    engine.dispose()
    with open_store(store_url) as store:
        day = BASE // 86_400
        first = BASE // 900
        assert (
            table(store, "agg_member_days")
            == before
            == [
                (CHAT.id, day, ALICE.id, 2, 0, first, first + 20),
                (CHAT.id, day + 1, BOB.id, 1, 0, first + 96, first + 96),
            ]
        )
        assert_exact(store)


def test_a_version_6_store_gets_its_member_word_spans_from_the_day_rows(store_url: str) -> None:
    """Three spans of two members' words: the upgrade sums them from agg_words,
    and a member's period across the spans reads the same words as before."""
    day = 86_400
    with open_store(store_url) as store:
        fill_store(
            store,
            [
                make_message(
                    CHAT, (ALICE, BOB)[i % 2], f"w{chr(97 + i % 4)}x", message_id=i + 1, date=d
                )
                for i, d in enumerate(range(BASE, BASE + 40 * day, day // 3))
            ],
        )
        before = table(store, "agg_member_word_spans")
        since = datetime.fromtimestamp(BASE + 3 * day, UTC)
        period = store.queries.word_counts(CHAT.id, since=since, user_id=ALICE.id)
    as_version(store_url, 6)
    with open_store(store_url) as store:
        after = table(store, "agg_member_word_spans")
        assert after == before and len({row[2] for row in after}) == 3  # three spans
        assert {row[1] for row in after} == {ALICE.id, BOB.id}
        assert store.queries.word_counts(CHAT.id, since=since, user_id=ALICE.id) == period
        assert sum(period.values()) == 60 - 5  # Alice's words after the third day
        assert_exact(store)


def test_a_version_7_store_gets_word_totals_and_the_ranking_indexes(store_url: str) -> None:
    """The upgrade sums each member's day of words from agg_words and builds
    the indexes the ranking reads the spans' heads and the short words with."""
    day = 86_400
    with open_store(store_url) as store:
        fill_store(
            store,
            [
                make_message(CHAT, (ALICE, BOB)[i % 2], f"w{chr(97 + i % 4)}x ok", message_id=i + 1)
                for i in range(40)
            ]
            + [
                make_message(CHAT, ALICE, "late words", message_id=100 + i, date=BASE + i * day)
                for i in range(30)
            ],
        )
        before = table(store, "agg_word_totals")
        chat_days = table(store, "agg_chat_word_days")
        since = datetime.fromtimestamp(BASE + 3 * day, UTC)
        ranking = store.queries.word_ranking(CHAT.id, since=since, min_length=2)
    as_version(store_url, 7)
    with open_store(store_url) as store:
        assert table(store, "agg_word_totals") == before
        assert table(store, "agg_chat_word_days") == chat_days
        assert sum(row[3] for row in before) == 40 * 2 + 30 * 2
        assert {
            "ix_agg_word_spans_count",
            "ix_agg_member_word_spans_count",
            "ix_agg_chat_words_length",
            "ix_agg_chat_words_odd",
            "ix_agg_member_words_count",  # and on to version 9
        } <= _indexes(store)
        assert store.queries.word_ranking(CHAT.id, since=since, min_length=2) == ranking
        assert ranking.total == 27 * 2  # "late words" from the fourth day on
        assert_exact(store)


def test_a_version_8_store_gets_the_member_words_count_index(store_url: str) -> None:
    """The upgrade adds the index a member's all-time ranking reads their
    most used words from; the ranking and the version come out as before."""
    with open_store(store_url) as store:
        fill_store(
            store,
            [
                make_message(CHAT, (ALICE, BOB)[i % 3 == 0], f"w{i % 7} w{i % 5} ok", message_id=i)
                for i in range(1, 60)
            ],
        )
        ranking = store.queries.word_ranking(CHAT.id, user_id=ALICE.id, min_length=1, limit=4)
    as_version(store_url, 8)
    with open_store(store_url) as store:
        assert "ix_agg_member_words_count" in _indexes(store)
        with store.engine.connect() as connection:
            version = connection.execute(
                sqlalchemy.text("SELECT version FROM tgstats_schema_version")
            ).scalar_one()
        assert version == SCHEMA_VERSION == 9
        again = store.queries.word_ranking(CHAT.id, user_id=ALICE.id, min_length=1, limit=4)
        assert again == ranking
        assert ranking.words[0].word == "ok"  # in every message of hers
        assert_exact(store)


def _indexes(store: Store) -> set[str]:
    """The names of the store's indexes."""
    catalog = (
        "SELECT name FROM sqlite_master WHERE type = 'index'"
        if store.engine.dialect.name == "sqlite"
        else "SELECT indexname FROM pg_indexes"
    )
    with store.engine.connect() as connection:
        return set(connection.exec_driver_sql(catalog).scalars())


def test_store_verify_and_rebuild_commands(
    store: Store, store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    fill_store(store, [make_message(CHAT, ALICE, "one two", message_id=1)])
    assert main(["store", "verify", "--db", store_url]) == 0
    with store.engine.begin() as connection:
        connection.execute(sqlalchemy.text("UPDATE agg_activity SET messages = 5"))
        connection.execute(sqlalchemy.text("DELETE FROM agg_words WHERE word = 'two'"))
    capsys.readouterr()
    assert main(["store", "verify", "--db", store_url, "--chat-id", str(CHAT.id)]) == 1
    out, err = capsys.readouterr()
    assert "agg_activity chat=-1001300" in out and "stored=(5, 0) expected=(1, 0)" in out
    # The tables summed from the changed ones no longer add up either: agg_chat_activity
    # and agg_member_days from agg_activity; the span tables and the all-time word
    # tables from agg_words.
    assert "agg_word_spans" in out and "agg_chat_activity" in out and "'two'" in out
    assert "agg_member_days" in out and "agg_member_word_spans" in out
    assert "agg_member_words" in out and "agg_chat_words" in out and "agg_word_totals" in out
    assert "agg_chat_word_days" in out
    assert "10 difference(s)" in err
    assert main(["store", "rebuild", "--db", store_url]) == 0
    assert main(["store", "verify", "--db", store_url]) == 0
    assert main(["store", "verify", "--db", store_url, "--chat-id", "-5"]) == 1
    assert "no chat with id -5" in capsys.readouterr().err
