"""The intake: poison updates kept and skipped, confirmation only after the commit,
commands answered at most once, recording never behind a command."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from telegram import Update
from telegram.ext import TypeHandler
from tgstats.plugins import CommandContext, NoConfig, Plugin, TextReply, command
from tgstats.store.rejected import list_rejected

from .conftest import record

GROUP_A, GROUP_B = -2001, -2002

_GOOD = {
    "message_id": 777,
    "date": 1_700_000_000,
    "chat": {"id": GROUP_A, "type": "supergroup", "title": "A"},
    "from": {"id": 1, "is_bot": False, "first_name": "One"},
    "text": "fine",
}
POISON = [
    {"message": {**_GOOD, "date": 2**40}},
    {"message": {k: v for k, v in _GOOD.items() if k != "date"}},
    {"message": {**_GOOD, "from": {"is_bot": False, "first_name": "No id"}}},
    {"message": {**_GOOD, "entities": "bold"}},
    {"message": "a string"},
]


class Count(Plugin[NoConfig]):
    @command("count", "Count messages")
    def count(self, ctx: CommandContext) -> TextReply:
        return TextReply(str(ctx.store.count_messages(ctx.chat_id)))


class Sleepy(Plugin[NoConfig]):
    @command("sleepy", "Sleep a while")
    async def sleepy(self, ctx: CommandContext) -> TextReply:
        await asyncio.sleep(float(ctx.args[0]))
        return TextReply("awake")


async def test_poison_updates_are_kept_logged_once_and_skipped(
    harness: Any, log_lines: Any
) -> None:
    await harness.send(GROUP_A, 1, "before")
    ids = harness.api.inject_raw(*(json.dumps(p) for p in POISON))
    await harness.send(GROUP_A, 1, "after")
    await harness.settle()
    assert [r.text for r in harness.store.queries.messages(GROUP_A)] == ["before", "after"]
    rejected = list_rejected(harness.store.engine)
    assert [r.update_id for r in rejected] == ids
    assert json.loads(rejected[-1].raw) == {"update_id": ids[-1], "message": "a string"}
    assert "year 36812 is out of range" in rejected[0].reason
    assert log_lines.getvalue().count("update_rejected") == 5
    assert "CRITICAL" not in log_lines.getvalue()


async def test_an_id_the_store_cannot_take_is_rejected_not_retried(harness: Any) -> None:
    # Refused at the door now (tgstats.store.bounds), before the store would refuse it.
    too_big = {**_GOOD, "message_id": 2**70, "text": "too big an id"}
    (update_id,) = harness.api.inject({"message": too_big})
    await harness.send(GROUP_A, 1, "next")
    await harness.settle()
    assert [r.text for r in harness.store.queries.messages(GROUP_A)] == ["next"]
    (rejected,) = list_rejected(harness.store.engine)
    assert rejected.update_id == update_id
    assert rejected.reason.startswith("out of range: message.message_id")
    assert json.loads(rejected.raw)["message"]["message_id"] == 2**70  # as Telegram sent it


async def test_nothing_is_confirmed_before_it_is_committed(harness: Any) -> None:
    gate = threading.Event()
    record_messages = harness.store.record_messages

    def held(batch: Any) -> Any:
        gate.wait(10)  # a slow disk: the commit has not happened yet
        return record_messages(batch)

    harness.store.record_messages = held
    await harness.send(GROUP_A, 1, "slow to commit")
    await harness.api.wait_until(lambda: harness.api.deliveries, 5, "delivered")
    await asyncio.sleep(0.3)
    assert harness.api.pending_count() == 1 and harness.api.confirmed == 0
    gate.set()
    await harness.settle()
    assert harness.api.confirmed == 1
    assert harness.store.queries.count_messages(GROUP_A) == 1


async def test_a_redelivered_command_is_not_answered_again(harness: Any, log_lines: Any) -> None:
    harness.handlers.install(record("count", Count, harness.store))
    message = harness.api.message(GROUP_A, 1, "/count")
    harness.api.inject({"message": message})
    await harness.settle()
    harness.api.inject({"message": message})  # what Telegram does after a crash before confirm
    await harness.settle()
    assert [m.text for m in harness.api.sent_to(GROUP_A)] == ["1"]
    assert "command_already_answered" in log_lines.getvalue()


async def test_a_slow_command_delays_neither_recording_nor_another_chat(harness: Any) -> None:
    harness.handlers.install(record("sleepy", Sleepy, harness.store))
    harness.handlers.install(record("count", Count, harness.store))
    harness.api.send_message(GROUP_A, 1, "/sleepy 2")
    for n in range(20):
        harness.api.send_message(GROUP_A, 2, f"a {n}")  # same chat, behind the slow command
        harness.api.send_message(GROUP_B, 2, f"b {n}")
    reply = await harness.reply_to(GROUP_B, 3, "/count", timeout=1.5)
    assert reply.text == "21"
    assert harness.store.queries.count_messages(GROUP_A) == 21  # recorded, not waiting
    assert harness.api.sent_to(GROUP_A) == []  # still asleep
    await harness.api.wait_until(lambda: harness.api.sent_to(GROUP_A), 5, "the slow answer")
    assert harness.api.sent_to(GROUP_A)[0].text == "awake"


async def test_values_telegram_cannot_send_are_rejected_at_the_door(harness: Any) -> None:
    forged = [
        {"message": {**_GOOD, "date": 4_102_444_800}},  # the year 2100
        {"message": {**_GOOD, "date": 1_000_000_000}},  # 2001, before Telegram
        {"message": {**_GOOD, "message_id": 2**64}},
        {"message": {**_GOOD, "from": {"id": 2**70, "is_bot": False, "first_name": "Big"}}},
    ]
    ids = harness.api.inject_raw(*(json.dumps(update) for update in forged))
    await harness.send(GROUP_A, 1, "after")
    await harness.settle()
    assert [r.text for r in harness.store.queries.messages(GROUP_A)] == ["after"]
    reasons = [r.reason for r in list_rejected(harness.store.engine)]
    assert [r.update_id for r in list_rejected(harness.store.engine)] == ids
    assert reasons[0].startswith("out of range: message.date: expected a date between 2013")
    assert "4102444800" in reasons[0] and "1000000000" in reasons[1]
    assert "message.message_id: expected an id that fits in 64 bits" in reasons[2]
    assert "message.from.id" in reasons[3]


async def test_an_update_whose_host_handler_raises_is_kept_and_the_rest_go_on(
    harness: Any,
) -> None:
    async def broken(update: Any, _context: Any) -> None:
        if update.message.text == "/boom":
            raise RuntimeError("host bug")

    async def on_error(update: object, context: Any) -> None:  # as the runtime wires it
        await harness.intake.reject(update, context.error)

    harness.application.add_handler(TypeHandler(Update, broken), -50)
    harness.application.add_error_handler(on_error)
    harness.handlers.install(record("count", Count, harness.store))
    (boom_id,) = harness.api.inject({"message": harness.api.message(GROUP_A, 1, "/boom")})
    reply = await harness.reply_to(GROUP_A, 1, "/count")
    assert reply.text == "2"  # /boom was stored (before handling), then /count
    (rejected,) = list_rejected(harness.store.engine)
    assert rejected.update_id == boom_id
    assert rejected.reason == "handling raised RuntimeError: host bug"


async def test_a_command_resent_to_a_second_worker_while_answered_is_answered_once(
    harness: Any, log_lines: Any
) -> None:
    """Two webhook workers on one database: Telegram re-sends a command to worker B
    while worker A is still answering it; the claim in the store lets only A answer."""
    from tgstats.bot.app import build_application
    from tgstats.bot.handlers import PluginHandlers
    from tgstats.bot.intake import UpdateIntake
    from tgstats.bot.recorder import Recorder
    from tgstats.store import open_store
    from tgstats.store.writer import StoreWriter

    from .conftest import bot_settings

    harness.handlers.install(record("sleepy", Sleepy, harness.store))
    store_b = open_store(str(harness.store.engine.url))
    application_b = build_application(bot_settings(harness.api))
    writer_b = StoreWriter(store_b)
    writer_b.start()
    intake_b = UpdateIntake(application_b, Recorder(writer_b))
    handlers_b = PluginHandlers(application_b, store_b.queries, was_recorded=intake_b.was_recorded)
    handlers_b.install(record("sleepy", Sleepy, store_b))
    await application_b.initialize()
    try:
        message = harness.api.message(GROUP_A, 1, "/sleepy 1")
        (update_id,) = harness.api.inject({"message": message})
        await harness.api.wait_until(lambda: harness.api.confirmed, 5, "worker A committed it")
        await asyncio.sleep(0.2)  # A is asleep in its answer
        assert harness.api.sent_to(GROUP_A) == []
        await intake_b.submit_batch([{"update_id": update_id, "message": message}])
        await intake_b.lanes.drain(10)
        await harness.settle()
        await harness.api.wait_until(lambda: harness.api.sent_to(GROUP_A), 5, "A's answer")
        await asyncio.sleep(0.3)
        assert [m.text for m in harness.api.sent_to(GROUP_A)] == ["awake"]
        assert "command_already_answered" in log_lines.getvalue()
        assert harness.store.queries.count_messages(GROUP_A) == 1
    finally:
        await writer_b.stop()
        await application_b.shutdown()
        store_b.close()


async def test_plain_messages_skip_python_telegram_bot_commands_do_not(
    harness: Any, monkeypatch: Any
) -> None:
    """Plain group text goes straight from JSON to its row (tgstats.bot.plain); a
    command still becomes a telegram.Update for its handler."""
    parsed: list[int] = []
    de_json = Update.de_json

    def counting(data: Any, bot: Any = None) -> Update:
        parsed.append(data["update_id"])
        return de_json(data, bot)

    monkeypatch.setattr(Update, "de_json", counting)
    harness.handlers.install(record("count", Count, harness.store))
    sent = [await harness.send(GROUP_A, 1, f"plain {n}") for n in range(3)]
    harness.api.edit_message(sent[0], "plain 0, edited")
    reply = await harness.reply_to(GROUP_A, 2, "/count")
    await harness.settle()
    assert reply.text == "4"  # the three plain messages and the command, all stored
    texts = [m.text for m in harness.store.queries.messages(GROUP_A)]
    assert texts[:3] == ["plain 0, edited", "plain 1", "plain 2"]
    assert len(parsed) == 1  # only the command was parsed by python-telegram-bot
