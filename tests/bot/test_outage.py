"""Commands while the store refuses writes: a short answer, the message kept."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from tgstats.bot.outage import UNAVAILABLE_TEXT, command_name
from tgstats.plugins import CommandContext, NoConfig, Plugin, TextReply, command

from .conftest import record

CHAT = -100600
ALICE = 21


class Count(Plugin[NoConfig]):
    @command("count", "Count messages")
    def count(self, ctx: CommandContext) -> TextReply:
        return TextReply(str(ctx.store.count_messages(ctx.chat_id)))


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("/count", "count"),
        ("/Count@TestBot 30 days", "count"),
        ("/count@OtherBot", None),
        ("count", None),
        ("/", None),
        ("/ count", None),
        (None, None),
    ],
)
def test_command_name(text: str | None, name: str | None) -> None:
    assert command_name(text, "testbot") == name


async def test_commands_answer_unavailable_while_writes_are_refused_then_count_everything(
    harness: Any,
) -> None:
    harness.handlers.install(record("count", Count, harness.store))
    read_only = {"on": True}

    @event.listens_for(harness.store.engine, "begin")
    def _query_only(connection: Any) -> None:  # SQLite itself refuses every write
        cursor = connection.connection.dbapi_connection.cursor()
        cursor.execute(f"PRAGMA query_only={'ON' if read_only['on'] else 'OFF'}")
        cursor.close()

    for n in range(5):
        await harness.send(CHAT, ALICE, f"kept {n}")
    reply = await harness.reply_to(CHAT, ALICE, "/count", timeout=10)
    assert reply.text == UNAVAILABLE_TEXT
    assert not harness.writer.available
    assert harness.store.queries.count_messages(CHAT) == 0

    read_only["on"] = False
    await harness.api.wait_until(lambda: harness.writer.available, 10, "recovery")
    reply = await harness.reply_to(CHAT, ALICE, "/count", timeout=10)
    assert reply.text == "7"  # 5 messages, the first /count (kept), this /count
    # The first /count had its answer ("unavailable"): it is not answered again.
    assert [m.text for m in harness.api.sent_to(CHAT)] == [UNAVAILABLE_TEXT, "7"]
    assert harness.recorder.failed == 0
