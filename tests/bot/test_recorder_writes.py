"""What the recorder hands an at-least-once intake: each update's write, settled on commit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event
from telegram import Update
from tgstats.store.writer import StoreStopping

CHAT = -100650


async def test_each_update_s_write_resolves_once_committed(harness: Any) -> None:
    writes: dict[int, asyncio.Future[Any]] = {}

    def on_write(update: Update, future: asyncio.Future[Any]) -> None:
        writes[update.update_id] = future

    harness.recorder.on_write = on_write
    sent = [await harness.send(CHAT, 1, f"m {n}") for n in range(20)]
    await harness.settle()
    assert len(writes) == 20
    assert all(f.done() and f.result() == [True] for f in writes.values())
    assert harness.store.queries.count_messages(CHAT) == len(sent)
    assert harness.recorder.recorded == 20


async def test_a_write_failing_while_stopping_raises_store_stopping(harness: Any) -> None:
    writes: list[asyncio.Future[Any]] = []
    harness.recorder.on_write = lambda _update, future: writes.append(future)

    @event.listens_for(harness.store.engine, "begin")
    def _query_only(connection: Any) -> None:  # every write refused: an outage
        cursor = connection.connection.dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    await harness.send(CHAT, 1, "never committed")
    await harness.api.wait_until(lambda: not harness.writer.available, 10, "the outage")
    assert writes and not writes[0].done()
    harness.writer.request_stop()
    with pytest.raises(StoreStopping):
        await asyncio.wait_for(writes[0], 5)  # the intake must not confirm this update
    assert harness.store.queries.count_messages(CHAT) == 0
