"""The recorder stores every message first and never stops the plugins."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy
import sqlalchemy.event
from tgstats.bot.outage import UNAVAILABLE_TEXT
from tgstats.plugins import CommandContext, NoConfig, Plugin, TextReply, command

from .conftest import record

GROUP_A, GROUP_B = -1001, -1002


class Count(Plugin[NoConfig]):
    @command("count", "Count messages")
    def count(self, ctx: CommandContext) -> TextReply:
        return TextReply(str(ctx.store.count_messages(ctx.chat_id)))


async def test_messages_from_several_chats_and_users_and_edits(harness: Any) -> None:
    first = await harness.send(GROUP_A, 1, "hello", username="alice")
    await harness.send(GROUP_A, 2, "hi alice")
    await harness.send(GROUP_B, 1, "other group")
    await harness.send(GROUP_B, 3, "photo later", chat_type="group")
    harness.api.edit_message(first, "hello, edited")
    await harness.settle()
    rows = list(harness.store.queries.messages(GROUP_A))
    assert [(r.user_id, r.text) for r in rows] == [(1, "hello, edited"), (2, "hi alice")]
    assert rows[0].edit_date is not None
    assert harness.store.queries.count_messages(GROUP_B) == 2
    assert harness.store.queries.find_user(GROUP_A, "@Alice").user_id == 1
    assert harness.recorder.recorded == 5


async def test_direct_messages_to_the_bot_are_never_recorded_but_commands_answer(
    harness: Any,
) -> None:
    harness.handlers.install(record("count", Count, harness.store))
    await harness.send(4242, 4242, "private hello", chat_type="private")
    await harness.send(4242, 4242, "/count", chat_type="private")
    reply = await harness.api.wait_until(
        lambda: harness.api.reply_after(4242, 0), 10, "the answer in the private chat"
    )
    await harness.settle()
    assert reply.text == "0"  # answered, from a store that holds nothing of this chat
    assert harness.store.queries.count_messages(4242) == 0
    assert harness.store.queries.chat(4242) is None
    await harness.send(GROUP_A, 1, "a group message")
    await harness.settle()
    assert harness.store.queries.count_messages(GROUP_A) == 1


async def test_reaction_counts_are_requested_and_recorded(harness: Any) -> None:
    message = await harness.send(GROUP_A, 1, "react to me")
    harness.api.inject(
        {
            "message_reaction_count": {
                "chat": message["chat"],
                "message_id": message["message_id"],
                "date": message["date"],
                "reactions": [{"type": {"type": "emoji", "emoji": "👍"}, "total_count": 4}],
            }
        }
    )
    await harness.settle()
    assert [r.reaction_count for r in harness.store.queries.messages(GROUP_A)] == [4]
    _, params = next(c for c in harness.api.calls if c[0] == "getUpdates")
    # Telegram sends chat_member and both reaction kinds only when asked for by name.
    wanted = {"message_reaction_count", "message_reaction", "chat_member", "my_chat_member"}
    assert {"message", "edited_message", *wanted} <= set(params["allowed_updates"])


async def test_a_sticker_is_stored_with_its_emoji(harness: Any) -> None:
    """A sticker update as Telegram sends it: the usual path (python-telegram-bot parses
    it), its emoji in the row; a forged one keeps the message without it."""
    text = await harness.send(GROUP_A, 1, "before the stickers")

    def sticker(message_id: int, emoji: Any) -> dict[str, Any]:
        body = {
            "file_id": f"CAACAgIAAxkBAAE{message_id}",
            "file_unique_id": f"AgAD{message_id}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "set_name": "HotCherry",
            "emoji": emoji,
        }
        return {
            "message": {
                "message_id": message_id,
                "date": text["date"] + message_id,
                "chat": text["chat"],
                "from": text["from"],
                "sticker": body,
            }
        }

    harness.api.inject(sticker(2, "😂"))
    harness.api.inject(sticker(3, "\u202e😂\n"))  # a bidi override and a newline: dropped
    harness.api.inject(sticker(4, "😂" * 5000))  # 10,000 characters: no sticker has that
    await harness.settle()
    rows = list(harness.store.queries.messages(GROUP_A))
    assert [(r.message_id, r.media_kind, r.sticker_emoji) for r in rows] == [
        (1, None, None),
        (2, "sticker", "😂"),
        (3, "sticker", "😂"),
        (4, "sticker", None),
    ]
    assert harness.store.queries.member_stickers(GROUP_A, 1).stickers == 3


async def test_a_refused_write_is_retried_and_nothing_is_confirmed_until_it_commits(
    harness: Any, log_lines: Any
) -> None:
    harness.handlers.install(record("count", Count, harness.store))
    read_only = {"on": True}

    @sqlalchemy.event.listens_for(harness.store.engine, "begin")
    def _query_only(connection: Any) -> None:  # SQLite itself refuses every write
        cursor = connection.connection.dbapi_connection.cursor()
        cursor.execute(f"PRAGMA query_only={'ON' if read_only['on'] else 'OFF'}")
        cursor.close()

    harness.api.send_message(GROUP_A, 1, "/count")
    await harness.api.wait_until(
        lambda: "store_unavailable" in log_lines.getvalue(), 10, "the outage to be noticed"
    )
    await harness.api.wait_until(lambda: harness.api.sent_to(GROUP_A), 10, "the outage answer")
    await asyncio.sleep(0.5)
    assert harness.api.pending_count() == 1  # not confirmed: Telegram would send it again
    assert [m.text for m in harness.api.sent_to(GROUP_A)] == [UNAVAILABLE_TEXT]
    assert not harness.recorder.healthy
    read_only["on"] = False  # the database is back
    await harness.api.wait_until(lambda: harness.api.pending_count() == 0, 10, "the commit")
    assert harness.recorder.healthy
    assert harness.store.queries.count_messages(GROUP_A) == 1  # stored once it could be
    reply = await harness.reply_to(GROUP_A, 1, "/count")
    assert reply.text == "2"
    assert log_lines.getvalue().count("store_unavailable") == 1  # once per outage


async def test_a_burst_is_written_in_few_transactions_and_commands_see_all_of_it(
    harness: Any, monkeypatch: Any
) -> None:
    harness.handlers.install(record("count", Count, harness.store))
    calls: list[int] = []
    record_messages = harness.store.record_messages

    def counting(batch: Any) -> Any:
        calls.append(len(batch))
        return record_messages(batch)

    monkeypatch.setattr(harness.store, "record_messages", counting)
    for n in range(60):  # queued faster than the bot fetches: one burst
        harness.api.send_message(GROUP_A, 1 + n % 3, f"message {n}")
    harness.api.send_message(GROUP_A, 1, "/count")
    harness.api.send_message(GROUP_A, 2, "after the command")
    await harness.settle()
    await harness.api.wait_until(lambda: harness.api.sent_to(GROUP_A), 10, "reply")

    # The command was answered after every message before it (and itself) was stored;
    # the page is recorded before its commands run, so a later message may count too.
    assert harness.api.sent_to(GROUP_A)[-1].text in ("61", "62")
    assert harness.store.queries.count_messages(GROUP_A) == 62
    assert sum(calls) == 62
    assert len(calls) < 10, calls  # batched, not one transaction per message
