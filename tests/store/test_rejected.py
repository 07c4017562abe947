"""rejected_updates and answered_commands on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import sqlalchemy
from tgstats.store import Store, open_store
from tgstats.store.rejected import (
    ANSWERED_KEEP_SECONDS,
    MAX_RAW_CHARS,
    claim_command,
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


def test_a_command_is_claimed_once(store: Store) -> None:
    engine = store.engine
    assert claim_command(engine, -1, 5)
    assert not claim_command(engine, -1, 5)  # a redelivered copy: already claimed
    assert claim_command(engine, -1, 6) and claim_command(engine, -2, 5)
    assert is_answered(engine, -1, 5)


def test_concurrent_claims_from_separate_connections_have_one_winner(store_url: str) -> None:
    """Two webhook workers share one database: each claims through its own engine."""
    workers = [open_store(store_url) for _ in range(2)]
    try:
        for message_id in range(1, 11):
            barrier = threading.Barrier(4)
            results: list[bool] = []

            def claim(
                worker: Store, message_id: int, barrier: threading.Barrier, results: list[bool]
            ) -> None:
                barrier.wait(5)
                results.append(claim_command(worker.engine, -7, message_id))

            threads = [
                threading.Thread(target=claim, args=(w, message_id, barrier, results))
                for w in workers * 2
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)
            assert sorted(results) == [False, False, False, True], message_id
    finally:
        for worker in workers:
            worker.close()
