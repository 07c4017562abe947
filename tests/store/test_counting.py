"""What statistics count: commands and bots are stored but not counted; migration of old stores."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy
import telegram
from tgstats.store import SCHEMA_VERSION, Store, open_store
from tgstats.store.counting import counts_as_chat
from tgstats.store.rebuild import verify
from tgstats.testing import fill_store, make_channel, make_chat, make_message, make_user

from .old_versions import undo_version_5

CHAT = make_chat(-100700, "Counting")
ALICE = make_user(1, "Alice", username="alice")
HELPER_BOT = telegram.User(id=99, first_name="Helper", is_bot=True, username="helper_bot")
NEWS = make_channel(-100701, "News")


def command(text: str, sender: telegram.User = ALICE, **kw: object) -> telegram.Message:
    name = text.split()[0]
    entity = telegram.MessageEntity(telegram.MessageEntity.BOT_COMMAND, 0, len(name))
    return make_message(CHAT, sender, text, entities=[entity], **kw)


def test_what_counts() -> None:
    assert counts_as_chat(make_message(CHAT, ALICE, "hello"))
    assert counts_as_chat(make_message(CHAT, NEWS, "a channel post"))  # counted as a message
    assert not counts_as_chat(command("/heatmap 30"))
    assert not counts_as_chat(command("/stats@other_bot"))  # a command for any bot
    assert not counts_as_chat(make_message(CHAT, HELPER_BOT, "I am a bot"))
    # A slash later in the text, or a command that is not the first entity, is chat.
    assert counts_as_chat(make_message(CHAT, ALICE, "try /heatmap"))
    late = telegram.MessageEntity(telegram.MessageEntity.BOT_COMMAND, 4, 8)
    assert counts_as_chat(make_message(CHAT, ALICE, "try /heatmap", entities=[late]))
    assert not counts_as_chat(
        make_message(
            CHAT,
            ALICE,
            media="photo",
            caption="/wordcloud",
            caption_entities=[telegram.MessageEntity(telegram.MessageEntity.BOT_COMMAND, 0, 10)],
        )
    )


def test_commands_and_bots_are_stored_but_not_counted(store: Store) -> None:
    chat_messages = [
        make_message(CHAT, ALICE, "hello there", date="2026-03-02T10:00:00Z"),
        make_message(CHAT, ALICE, "second", date="2026-03-02T10:05:00Z"),
    ]
    first = chat_messages[0]
    noise = [
        command("/heatmap all", date="2026-03-02T10:01:00Z"),
        command("/engagement", date="2026-03-02T10:02:00Z", reply_to=first),
        make_message(CHAT, HELPER_BOT, "beep boop", date="2026-03-02T10:03:00Z", reply_to=first),
    ]
    fill_store(store, chat_messages + noise)
    queries = store.queries
    assert queries.count_messages(CHAT.id) == 5  # all stored
    assert len(list(queries.messages(CHAT.id))) == 5
    grid = queries.counts_by_weekday_hour(CHAT.id, tz=ZoneInfo("UTC"))
    assert sum(map(sum, grid)) == 2 and grid[0][10] == 2  # a Monday, 10:00
    assert sorted(queries.texts(CHAT.id)) == ["hello there", "second"]
    [alice] = queries.user_activity(CHAT.id, tz=ZoneInfo("UTC"))
    # The command and the bot both replied to Alice: neither is a reply received.
    assert (alice.user.user_id, alice.messages, alice.replies_received) == (1, 2, 0)
    assert queries.reply_pairs(CHAT.id) == []


def _as_version_1(url: str) -> None:
    """Turn a fresh store into what tgstats 0.1 left: no `counted`, the old indexes."""
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        undo_version_5(connection)
        for name in (
            "ix_messages_chat_date",
            "ix_messages_chat_user_date",
            "ix_messages_chat_reply",
        ):
            connection.execute(sqlalchemy.text(f"DROP INDEX {name}"))
        connection.execute(sqlalchemy.text("ALTER TABLE messages DROP COLUMN counted"))
        for ddl in (
            "CREATE INDEX ix_messages_chat_date ON messages (chat_id, date)",
            "CREATE INDEX ix_messages_chat_user_date ON messages "
            "(chat_id, user_id, date, reaction_count)",
            "CREATE INDEX ix_messages_chat_reply ON messages "
            "(chat_id, reply_to_message_id, user_id, date)",
            "UPDATE tgstats_schema_version SET version = 1",
            "INSERT INTO chats (chat_id, title) VALUES (-100700, 'Counting')",
            "INSERT INTO messages (chat_id, message_id, date, text, reaction_count) VALUES "
            "(-100700, 1, 1772445600, 'hello', 0), (-100700, 2, 1772445660, '/heatmap 30', 0), "
            "(-100700, 3, 1772445720, '/ not a command', 0)",
        ):
            connection.execute(sqlalchemy.text(ddl))
    engine.dispose()


def test_a_version_1_store_is_migrated(store_url: str) -> None:
    open_store(store_url).close()
    _as_version_1(store_url)
    store = open_store(store_url)
    try:
        assert sorted(store.queries.texts(-100700)) == ["/ not a command", "hello"]
        assert store.queries.count_messages(-100700) == 3
        with store.engine.connect() as connection:
            version = connection.execute(
                sqlalchemy.text("SELECT version FROM tgstats_schema_version")
            ).scalar_one()
        assert version == SCHEMA_VERSION
        # The chain goes on through version 3, which builds the aggregates, to the last.
        with store.engine.connect() as connection:
            assert verify(connection) == []
            assert (
                connection.execute(
                    sqlalchemy.text("SELECT sum(messages) FROM agg_activity")
                ).scalar_one()
                == 2
            )
        columns = {
            ix["name"]: ix["column_names"]
            for ix in sqlalchemy.inspect(store.engine).get_indexes("messages")
        }
        assert columns["ix_messages_chat_date"] == ["chat_id", "date", "counted"]
        # New rows after the migration are classified as they are written.
        fill_store(store, [command("/wordcloud", date="2026-03-02T11:00:00Z", message_id=9)])
        assert store.queries.count_messages(-100700) == 4
        assert len(list(store.queries.texts(-100700))) == 2
    finally:
        store.close()
