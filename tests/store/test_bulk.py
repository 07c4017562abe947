"""The importer's bulk API: one transaction, idempotent, opt-outs respected."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import attrs
import pytest
from sqlalchemy import text
from tgstats.errors import StoreError
from tgstats.store import ChatInfo, MessageRow, Store, UserInfo

CHAT = ChatInfo(chat_id=-100800, title="Imported", type="supergroup")


def row(message_id: int, user_id: int = 1, **changes: object) -> MessageRow:
    fields: dict[str, object] = {
        "chat_id": CHAT.chat_id,
        "message_id": message_id,
        "thread_id": None,
        "user_id": user_id,
        "date": datetime(2025, 6, 1, 12, 0, tzinfo=UTC),
        "text": f"m{message_id}",
        "reply_to_message_id": None,
        "media_kind": None,
        "edit_date": None,
        "reaction_count": 0,
    }
    fields.update(changes)
    return MessageRow(**fields)  # type: ignore[arg-type]


def test_add_messages_is_idempotent(store: Store) -> None:
    with store.bulk() as batch:
        batch.upsert_chat(CHAT)
        batch.upsert_users([UserInfo(1, "u1", "User One"), UserInfo(-100900, None, "Chan", True)])
        assert batch.add_messages([row(i) for i in range(1, 101)]) == 100
    with store.bulk() as batch:
        batch.upsert_chat(CHAT)
        assert batch.add_messages([row(i) for i in range(1, 151)]) == 50
        assert batch.add_messages([]) == 0
    assert store.queries.count_messages(CHAT.chat_id) == 150
    assert store.queries.chat(CHAT.chat_id) == CHAT
    assert store.queries.find_user(CHAT.chat_id, "u1").display_name == "User One"


def test_add_users_keeps_stored_users(store: Store) -> None:
    with store.bulk() as batch:
        batch.upsert_users([UserInfo(1, "u1", "User One")])
    with store.bulk() as batch:
        batch.add_users([UserInfo(1, None, "Renamed"), UserInfo(2, None, "User Two")])
        batch.add_users([])
        batch.add_messages([row(1, user_id=1), row(2, user_id=2)])
    assert store.queries.find_user(CHAT.chat_id, "u1").display_name == "User One"
    names = {
        a.user.user_id: a.user.display_name
        for a in store.queries.user_activity(CHAT.chat_id, tz=ZoneInfo("UTC"))
    }
    assert names == {1: "User One", 2: "User Two"}


def test_fields_round_trip(store: Store) -> None:
    imported = row(
        7,
        user_id=-100900,
        thread_id=3,
        text="with reply",
        reply_to_message_id=6,
        media_kind="sticker",
        edit_date=datetime(2025, 6, 1, 12, 5, tzinfo=UTC),
        reaction_count=4,
    )
    with store.bulk() as batch:
        batch.upsert_chat(CHAT)
        batch.add_messages([imported])
    assert list(store.queries.messages(CHAT.chat_id)) == [imported]


def test_dict_rows_and_unix_seconds(store: Store) -> None:
    with store.bulk() as batch:
        added = batch.add_messages(
            [{"chat_id": -5, "message_id": 1, "user_id": 2, "date": 1_700_000_000, "text": None}]
        )
    assert added == 1
    (stored,) = store.queries.messages(-5)
    assert (stored.text, stored.reaction_count, stored.date.timestamp()) == ("", 0, 1_700_000_000)


def test_failure_rolls_back_everything(store: Store) -> None:
    with pytest.raises(StoreError, match="message -100800/2: date"), store.bulk() as batch:
        batch.upsert_chat(CHAT)
        batch.add_messages([row(1)])
        batch.add_messages([row(2, date=datetime(2025, 6, 1))])  # naive: refused
    assert store.queries.count_messages(CHAT.chat_id) == 0
    assert store.queries.chat(CHAT.chat_id) is None


def test_opted_out_senders_are_not_imported(store: Store) -> None:
    store.opt_out(CHAT.chat_id, 2)
    with store.bulk() as batch:
        batch.upsert_chat(CHAT)
        assert batch.add_messages([row(1, user_id=1), row(2, user_id=2), row(3, user_id=1)]) == 2
    assert store.queries.count_messages(CHAT.chat_id, user_id=2) == 0
    # An opt-out made in the supergroup also covers importing the old group's history.
    store.migrate_chat(-777, CHAT.chat_id)
    with store.bulk() as batch:
        old = [row(1, user_id=2), row(2, user_id=1)]
        assert batch.add_messages([attrs.evolve(r, chat_id=-777) for r in old]) == 1


def _word_count(store: Store, word: str) -> int:
    with store.engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT coalesce(sum(count), 0) FROM agg_words WHERE word = :word"),
                {"word": word},
            ).scalar()
        )


def test_held_aggregates_are_applied_and_commit_with_the_messages(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch holds aggregate changes across add_messages calls (a member's day spans
    several of the importer's batches); whatever it holds is applied before the commit,
    and a failure rolls them back with the messages."""
    from tgstats.store import bulk
    from tgstats.store.rebuild import verify

    monkeypatch.setattr(bulk, "_DEFERRED", 3)  # some calls apply, some only hold
    with store.bulk() as batch:
        batch.upsert_chat(CHAT)
        for start in range(1, 12, 2):
            batch.add_messages(
                [
                    row(start, user_id=1, text="alpha beta"),
                    row(start + 1, user_id=2, text="alpha", reply_to_message_id=start),
                ]
            )
    assert _word_count(store, "alpha") == 12
    assert _word_count(store, "beta") == 6
    with store.engine.connect() as connection:
        assert verify(connection) == []
    with pytest.raises(RuntimeError), store.bulk() as batch:
        batch.add_messages([row(100, text="alpha alpha")])
        raise RuntimeError("import failed")
    assert _word_count(store, "alpha") == 12
    with store.engine.connect() as connection:
        assert verify(connection) == []


def test_refresh_after_held_rows_keeps_the_words_exact(store: Store) -> None:
    """A file holding one message twice, the second copy with a newer edit: the refresh
    takes the first copy's words away after they were added (not before, which would
    take a word row below zero and lose it)."""
    from tgstats.store.rebuild import verify

    edited = datetime(2025, 6, 1, 13, 0, tzinfo=UTC)
    with store.bulk() as batch:
        batch.upsert_chat(CHAT)
        batch.add_messages([row(1, text="old")])
    with store.bulk() as batch:
        batch.start_refresh(CHAT.chat_id)
        batch.add_messages([row(2, text="alpha"), row(2, text="beta", edit_date=edited)])
        batch.apply_refresh(reactions=True)
    assert _word_count(store, "alpha") == 0
    assert _word_count(store, "beta") == 1
    with store.engine.connect() as connection:
        assert verify(connection) == []


@pytest.mark.postgres
def test_a_long_import_on_postgresql_looks_ids_up_by_the_key(pg_store_url: str) -> None:
    """Inside one import transaction the planner must learn how big messages got:
    without it the batch's id lookups read the whole chat per batch."""
    from tgstats.store import open_store

    with open_store(pg_store_url) as store, store.bulk() as batch:
        batch.upsert_chat(CHAT)
        rows = [
            {"chat_id": CHAT.chat_id, "message_id": i, "user_id": 1, "date": 1_750_000_000 + i}
            for i in range(1, 25_001)
        ]
        assert batch.add_messages(rows) == 25_000
        # The planner's estimate of the chat's rows: with the statistics of an
        # empty table it would be a default fraction (0.5 %) of the pages' rows.
        plan = (
            batch.connection.exec_driver_sql(
                f"EXPLAIN SELECT message_id FROM messages WHERE chat_id = {CHAT.chat_id}"
            )
            .scalars()
            .first()
        )
        estimate = int(plan.split("rows=")[1].split()[0])
        assert estimate >= 20_000, plan
