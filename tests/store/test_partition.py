"""`tgstats store partition --hash N`: the PostgreSQL messages table split by chat."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable
from tgstats.cli.main import main
from tgstats.store import Store, open_store
from tgstats.store.schema import messages
from tgstats.testing import fill_store, make_chat, make_message, make_user

CHATS = [make_chat(-1001500 - i, f"Chat {i}") for i in range(3)]
ALICE, BOB = make_user(1, "Alice"), make_user(2, "Bob")
UTC = ZoneInfo("UTC")


def _history(store: Store) -> None:
    sent = []
    for chat in CHATS:
        first = make_message(chat, ALICE, "hello there", message_id=1, date=1_767_225_600)
        sent += [
            first,
            make_message(chat, BOB, "hi back", message_id=2, date=1_767_229_200, reply_to=first),
            make_message(chat, BOB, "later words", message_id=3, date=1_767_315_600),
        ]
    fill_store(store, sent)


def _answers(store: Store) -> list[object]:
    q = store.queries
    return [
        (
            q.count_messages(chat.id),
            [(a.user.user_id, a.messages, a.active_days) for a in q.user_activity(chat.id, tz=UTC)],
            q.word_counts(chat.id),
            [(p.from_user_id, p.to_user_id, p.count) for p in q.reply_pairs(chat.id)],
        )
        for chat in CHATS
    ]


@pytest.mark.postgres
def test_partitioning_keeps_every_row_key_index_and_answer(
    pg_store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_store(pg_store_url) as store:
        _history(store)
        before = _answers(store)
    assert main(["store", "partition", "--hash", "4", "--db", pg_store_url]) == 0
    assert "9 rows moved" in capsys.readouterr().err
    with open_store(pg_store_url) as store, store.engine.connect() as connection:
        assert _answers(store) == before
        partitions = connection.execute(
            text(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = 'messages'::regclass",
            )
        ).scalar_one()
        assert partitions == 4
        indexes = set(
            connection.execute(
                text(
                    "SELECT indexname FROM pg_indexes "
                    "WHERE tablename = 'messages' AND schemaname = current_schema()"
                )
            ).scalars()
        )
        assert indexes == {"pk_messages"} | {str(index.name) for index in messages.indexes}
        # A redelivered message is still stored once, and new ones find their partition.
        fill_store(
            store,
            [
                make_message(CHATS[0], BOB, "hi back", message_id=2, date=1_767_229_200),
                make_message(CHATS[0], ALICE, "new one", message_id=4, date=1_767_402_000),
            ],
        )
        assert store.queries.count_messages(CHATS[0].id) == 4
        homes = connection.execute(
            text("SELECT count(DISTINCT tableoid) FROM messages WHERE chat_id = :chat"),
            {"chat": CHATS[0].id},
        ).scalar_one()
        assert homes == 1  # a chat's rows live in one partition
        # Erasure and the aggregates' check work on the partitioned table.
        store.opt_out(CHATS[1].id, BOB.id)
        assert store.queries.count_messages(CHATS[1].id) == 1
    assert main(["store", "verify", "--db", pg_store_url]) == 0
    # The shared schema objects are untouched: a new database still gets its key.
    ddl = str(CreateTable(messages).compile(dialect=postgresql.dialect()))
    assert "CONSTRAINT pk_messages PRIMARY KEY" in ddl


@pytest.mark.postgres
def test_partitioning_twice_or_with_a_bad_count_is_refused(
    pg_store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    open_store(pg_store_url).close()
    assert main(["store", "partition", "--hash", "1", "--db", pg_store_url]) == 1
    assert "expected 2 to 1024 partitions, found 1" in capsys.readouterr().err
    assert main(["store", "partition", "--hash", "2", "--db", pg_store_url]) == 0
    capsys.readouterr()
    assert main(["store", "partition", "--hash", "2", "--db", pg_store_url]) == 1
    assert "already partitioned" in capsys.readouterr().err


def test_sqlite_says_partitioning_needs_postgresql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    open_store(url).close()
    assert main(["store", "partition", "--hash", "4", "--db", url]) == 1
    assert "partitioning needs PostgreSQL" in capsys.readouterr().err
