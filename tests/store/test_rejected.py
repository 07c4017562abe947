"""rejected_updates and answered_commands on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import sqlalchemy
from tgstats.store import Store
from tgstats.store.rejected import (
    ANSWERED_KEEP_SECONDS,
    MAX_RAW_CHARS,
    is_answered,
    keep_rejected,
    list_rejected,
    mark_answered,
)
from tgstats.store.schema import answered_commands


def test_rejected_updates_are_kept_once_each_and_listed_oldest_first(store: Store) -> None:
    engine = store.engine
    assert keep_rejected(engine, 7, '{"update_id": 7}', "cannot parse: KeyError: 'date'")
    assert not keep_rejected(engine, 7, '{"update_id": 7}', "again")  # redelivered: kept once
    assert keep_rejected(engine, None, "[1, 2]", "not an update object")
    assert keep_rejected(engine, None, "[3]", "not an update object")  # no id: each kept
    assert keep_rejected(engine, 9, "x" * (MAX_RAW_CHARS + 10), "huge")
    rows = list_rejected(engine)
    assert [r.update_id for r in rows] == [7, None, None, 9]
    assert rows[0].reason == "cannot parse: KeyError: 'date'"
    assert abs(rows[0].received_at - time.time()) < 60
    assert len(rows[-1].raw) < MAX_RAW_CHARS + 100 and rows[-1].raw.endswith("characters]")
    assert [r.update_id for r in list_rejected(engine, limit=2)] == [None, 9]


def test_answered_commands_are_remembered_and_old_ones_pruned(store: Store) -> None:
    engine = store.engine
    assert not is_answered(engine, -1, 5)
    with engine.begin() as connection:
        connection.execute(
            answered_commands.insert(),
            {
                "chat_id": -1,
                "message_id": 1,
                "answered_at": int(time.time()) - ANSWERED_KEEP_SECONDS - 5,
            },
        )
    mark_answered(engine, -1, 5)
    mark_answered(engine, -1, 5)  # idempotent
    assert is_answered(engine, -1, 5) and not is_answered(engine, -2, 5)
    with engine.connect() as connection:
        count = connection.execute(
            sqlalchemy.select(sqlalchemy.func.count()).select_from(answered_commands)
        ).scalar()
    assert count in (1, 2)  # the stale row goes at the next prune (one mark in 500 prunes)
