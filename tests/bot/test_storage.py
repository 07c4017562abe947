"""The bot's store: proven writable at start, written through its writer, closed cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from tgstats.bot.storage import BotStorage
from tgstats.errors import StoreError
from tgstats.testing import make_chat, make_message, make_user


async def test_open_write_close(tmp_path: Path) -> None:
    storage = await BotStorage.open(f"sqlite:///{tmp_path / 'bot.db'}")
    assert storage.writer.running
    chat, user = make_chat(-100800), make_user(5, "Eve")
    assert await storage.writer.record_messages([make_message(chat, user, "hi")]) == [True]
    await storage.close()
    assert not storage.writer.running
    assert storage.store.engine.pool.checkedout() == 0


async def test_a_database_that_cannot_be_opened_for_writing_is_one_line(tmp_path: Path) -> None:
    missing_dir = tmp_path / "no" / "such" / "dir"
    with pytest.raises(StoreError) as refused:
        await BotStorage.open(f"sqlite:///{missing_dir / 'bot.db'}")
    assert "\n" not in str(refused.value)
    assert "must be writable" in str(refused.value)
