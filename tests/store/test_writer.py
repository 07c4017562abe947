"""The store writer against real faults: a lock held by another process, a
read-only database, a full file system, a value the database refuses."""

from __future__ import annotations

import asyncio
import io
import itertools
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
import telegram
from sqlalchemy import event
from tgstats.errors import StoreError
from tgstats.logs import configure_logging
from tgstats.store import Store, open_store
from tgstats.store.writer import DATA, OUTAGE, StoreStopping, StoreWriter, classify
from tgstats.testing import make_chat, make_message, make_user

from .faults import SqliteLock, fill_file_system, remount, tmpfs

pytestmark = pytest.mark.timeout(60)

CHAT = make_chat(-100700, "Writer group")
ALICE = make_user(31, "Alice")


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(stream=stream)
    yield stream
    configure_logging(stream=sys.stderr)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "writer.db"


@pytest.fixture
def quick_store(db: Path) -> Iterator[Store]:
    """A SQLite store that waits 0.2 s for a lock (the bot uses a short wait too)."""
    store = open_store(f"sqlite:///{db}", busy_timeout=0.2)
    yield store
    store.close()


def messages(count: int, start: int = 1, text: str = "hello") -> list[telegram.Message]:
    return [
        make_message(CHAT, ALICE, f"{text} {n}", message_id=n) for n in range(start, start + count)
    ]


async def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def started(store: Store, **kwargs: Any) -> StoreWriter:
    kwargs.setdefault("backoff_min", 0.05)
    kwargs.setdefault("backoff_max", 0.2)
    writer = StoreWriter(store, **kwargs)
    writer.start()
    return writer


async def max_loop_lag(seconds: float) -> float:
    """The longest the event loop went without running us, over ``seconds``."""
    worst, end = 0.0, time.monotonic() + seconds
    while time.monotonic() < end:
        before = time.monotonic()
        await asyncio.sleep(0.01)
        worst = max(worst, time.monotonic() - before - 0.01)
    return worst


async def test_a_lock_held_elsewhere_is_waited_out_off_the_event_loop(
    quick_store: Store, db: Path, log_lines: io.StringIO
) -> None:
    writer = await started(quick_store)
    with SqliteLock(db) as lock:
        future = await writer.submit_messages(messages(3))
        await wait_for(lambda: not writer.available, 5, "the store to be flagged unavailable")
        assert await max_loop_lag(0.8) < 0.15  # the busy waits happen in the writer thread
        assert not future.done()  # nothing given up, nothing claimed stored
        lock.release()
        assert await asyncio.wait_for(future, 5) == [True, True, True]
    assert writer.available
    assert quick_store.queries.count_messages(CHAT.id) == 3
    log = log_lines.getvalue()
    assert log.count("store_unavailable") == 1  # once per outage, not per retry
    assert log.count("store_recovered") == 1
    assert "database is locked" in log
    await writer.stop()


async def test_retries_back_off_up_to_the_cap(db: Path) -> None:
    store = open_store(f"sqlite:///{db}", busy_timeout=0.0)  # a busy database fails at once
    attempts: list[float] = []
    record = store.record_messages

    def timed(batch: Any) -> Any:
        attempts.append(time.monotonic())
        return record(batch)

    store.record_messages = timed  # type: ignore[method-assign]
    writer = await started(store, backoff_min=0.02, backoff_max=0.16)
    try:
        with SqliteLock(db) as lock:
            future = await writer.submit_messages(messages(1))
            await asyncio.sleep(1.3)
            lock.release()
            assert await asyncio.wait_for(future, 5) == [True]
    finally:
        await writer.stop()
        store.close()
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    # 0.02, 0.04, 0.08, then capped at 0.16 (plus scheduling noise).
    assert 6 <= len(attempts) <= 14, gaps
    assert gaps[0] < 0.1
    assert all(gap < 0.16 + 0.15 for gap in gaps), gaps
    assert min(gaps[4:-1]) > 0.12, gaps


async def test_stop_during_an_outage_gives_up_promptly_with_store_stopping(
    quick_store: Store, db: Path
) -> None:
    writer = await started(quick_store, stop_grace=0.3)
    with SqliteLock(db):
        future = await writer.submit_messages(messages(5))
        await wait_for(lambda: not writer.available, 5, "the outage")
        begun = time.monotonic()
        writer.request_stop()
        with pytest.raises(StoreStopping):
            await asyncio.wait_for(future, 5)
        # grace (0.3 s) + one busy wait (0.2 s) + scheduling
        assert time.monotonic() - begun < 1.5
        with pytest.raises(StoreStopping):
            await writer.submit_messages(messages(1, start=10))  # refused at once now
        await asyncio.wait_for(writer.stop(), 3)
    assert quick_store.queries.count_messages(CHAT.id) == 0  # and none claimed stored


async def test_stop_when_healthy_writes_everything_queued(quick_store: Store) -> None:
    writer = await started(quick_store)
    futures = [await writer.submit_messages([m]) for m in messages(300)]
    await writer.stop()
    assert all(f.done() and f.result() == [True] for f in futures)
    assert quick_store.queries.count_messages(CHAT.id) == 300


async def test_a_burst_shares_transactions(quick_store: Store) -> None:
    sizes: list[int] = []
    record = quick_store.record_messages

    def counting(batch: Any) -> Any:
        sizes.append(len(batch))
        return record(batch)

    quick_store.record_messages = counting  # type: ignore[method-assign]
    writer = await started(quick_store, max_batch=100)
    futures = [await writer.submit_messages([m]) for m in messages(450)]
    await asyncio.gather(*futures)
    await writer.stop()
    assert sum(sizes) == 450
    assert max(sizes) <= 100
    assert len(sizes) < 60, sizes  # not a commit per message


async def test_writes_keep_their_order_across_kinds(quick_store: Store) -> None:
    writer = await started(quick_store)
    first = await writer.submit_messages(messages(4))
    deleted = writer.opt_out(CHAT.id, ALICE.id)  # queued behind the messages: deletes them
    await first
    assert await deleted == 4
    assert await writer.record_messages(messages(1, start=50)) == [False]  # opted out now
    await writer.stop()


async def test_a_read_only_database_is_an_outage_until_writable_again(
    quick_store: Store, log_lines: io.StringIO
) -> None:
    # Root ignores file modes, so the refusal comes from SQLite itself:
    # query_only makes it answer every write with SQLITE_READONLY.
    read_only = {"on": True}

    @event.listens_for(quick_store.engine, "begin")
    def _query_only(connection: Any) -> None:
        cursor = connection.connection.dbapi_connection.cursor()
        cursor.execute(f"PRAGMA query_only={'ON' if read_only['on'] else 'OFF'}")
        cursor.close()

    writer = await started(quick_store)
    future = await writer.submit_messages(messages(2))
    await wait_for(lambda: not writer.available, 5, "the outage")
    assert "readonly database" in log_lines.getvalue()
    assert not future.done()
    read_only["on"] = False
    assert await asyncio.wait_for(future, 5) == [True, True]
    assert writer.available
    await writer.stop()


async def test_a_full_file_system_is_an_outage_until_space_is_freed(
    tmp_path: Path, log_lines: io.StringIO
) -> None:
    with tmpfs(tmp_path / "small", "1m") as mount:
        store = open_store(f"sqlite:///{mount / 'full.db'}", busy_timeout=0.2)
        writer = await started(store)
        try:
            assert await writer.record_messages(messages(5)) == [True] * 5
            filler = fill_file_system(mount)
            burst = messages(400, start=100, text="x" * 300)  # far more than any WAL slack
            future = await writer.submit_messages(burst)
            await wait_for(lambda: not writer.available, 10, "the disk-full outage")
            assert "full" in log_lines.getvalue()
            assert not future.done()
            filler.unlink()
            assert await asyncio.wait_for(future, 10) == [True] * 400
            assert store.queries.count_messages(CHAT.id) == 405
            assert "store_recovered" in log_lines.getvalue()
        finally:
            await writer.stop()
            store.close()


async def test_submitting_waits_while_too_much_is_pending(quick_store: Store, db: Path) -> None:
    writer = await started(quick_store, max_pending=10)
    with SqliteLock(db) as lock:
        queued = await writer.submit_messages(messages(10))
        blocked = asyncio.ensure_future(writer.submit_messages(messages(1, start=20)))
        await asyncio.sleep(0.5)
        assert not blocked.done()  # bounded memory: the caller stops taking updates
        lock.release()
        assert await asyncio.wait_for(queued, 5) == [True] * 10
        assert await asyncio.wait_for(await asyncio.wait_for(blocked, 5), 5) == [True]
    await writer.stop()


async def test_a_value_the_database_refuses_is_rejected_after_bounded_retries(
    store: Store, log_lines: io.StringIO
) -> None:
    rejected: list[int] = []
    writer = StoreWriter(
        store,
        backoff_min=0.01,
        data_retries=3,
        on_rejected=lambda message, _error: rejected.append(message.message_id),
    )
    writer.start()
    poison = make_message(CHAT, ALICE, "too big an id", message_id=2**70)  # > 64-bit integer
    batch = [*messages(2), poison, *messages(2, start=3)]
    assert await asyncio.wait_for(writer.record_messages(batch), 10) == [
        True,
        True,
        False,
        True,
        True,
    ]
    assert rejected == [2**70]
    assert writer.rejected == 1
    assert writer.available  # a bad value is no outage
    assert store.queries.count_messages(CHAT.id) == 4
    assert log_lines.getvalue().count("record_failed") == 1
    assert log_lines.getvalue().count("store_write_refused") == 2  # retries 1 and 2 of 3
    await writer.stop()


async def test_wait_settled_returns_early_during_an_outage(quick_store: Store, db: Path) -> None:
    writer = await started(quick_store)
    with SqliteLock(db) as lock:
        future = await writer.submit_messages(messages(1))
        begun = time.monotonic()
        assert await asyncio.wait_for(writer.wait_settled(future), 5) is False
        assert time.monotonic() - begun < 2
        lock.release()
        assert await asyncio.wait_for(future, 5) == [True]
        assert await writer.wait_settled(future) is True
    await writer.stop()


def test_errors_are_classified_as_outage_or_data(quick_store: Store, db: Path) -> None:
    with SqliteLock(db), pytest.raises(sqlalchemy.exc.OperationalError) as locked:
        quick_store.record_messages(messages(1))
    assert classify(locked.value) == OUTAGE
    with pytest.raises(OverflowError) as overflow:
        quick_store.record_messages([make_message(CHAT, ALICE, "x", message_id=2**70)])
    assert classify(overflow.value) == DATA
    with (
        pytest.raises(sqlalchemy.exc.IntegrityError) as integrity,
        quick_store.engine.begin() as connection,
    ):
        connection.exec_driver_sql("INSERT INTO chats (chat_id) VALUES (1), (1)")
    assert classify(integrity.value) == DATA
    assert classify(OSError(28, "No space left on device")) == OUTAGE


# -- the start-up write proof ---------------------------------------------------


def test_a_writable_store_passes_the_write_proof_and_keeps_no_trace(store: Store) -> None:
    store.check_writable()
    with store.engine.connect() as connection:
        versions = connection.exec_driver_sql("SELECT version FROM tgstats_schema_version").all()
    assert len(versions) == 1


def test_a_read_only_file_system_fails_the_write_proof_in_one_line(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "1m") as mount:
        url = f"sqlite:///{mount / 'ro.db'}"
        open_store(url).close()
        remount(mount, "ro")
        try:
            with pytest.raises(StoreError) as refused:
                store = open_store(url)
                try:
                    store.check_writable()
                finally:
                    store.close()
        finally:
            remount(mount, "rw")
    message = str(refused.value)
    assert "\n" not in message
    assert "ro.db" in message


def test_a_lock_at_start_is_no_refusal(quick_store: Store, db: Path, log_lines: Any) -> None:
    with SqliteLock(db):
        begun = time.monotonic()
        quick_store.check_writable()
        assert time.monotonic() - begun < 2
    assert "store_locked_at_start" in log_lines.getvalue()


@pytest.mark.postgres
def test_a_role_without_write_rights_fails_the_write_proof(pg_url: str) -> None:
    admin = sqlalchemy.create_engine(pg_url)
    role, schema = f"ro_{time.time_ns()}", f"ro_schema_{time.time_ns()}"
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sqlalchemy.make_url(pg_url).set(query={"options": f"-csearch_path={schema}"})
    open_store(url.render_as_string(hide_password=False)).close()
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        connection.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        connection.exec_driver_sql(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
    try:
        reader = url.set(username=role).render_as_string(hide_password=False)
        store = open_store(reader)
        try:
            with pytest.raises(StoreError) as refused:
                store.check_writable()
        finally:
            store.close()
        assert "permission denied" in str(refused.value)
        assert "\n" not in str(refused.value)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            connection.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


def test_a_lost_postgresql_connection_is_an_outage() -> None:
    engine = sqlalchemy.create_engine(
        "postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 2}
    )
    with pytest.raises(sqlalchemy.exc.OperationalError) as refused:
        engine.connect()
    engine.dispose()
    assert classify(refused.value) == OUTAGE
