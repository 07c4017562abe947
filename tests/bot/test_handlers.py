"""Plugin commands/listeners as PTB handlers: install, answer, apology, removal, swap."""

from __future__ import annotations

import asyncio
import random
import threading
from typing import Any

import pytest
from telegram.ext import CommandHandler
from tgstats.bot.handlers import FIRST_PLUGIN_GROUP, apology
from tgstats.host.manager import PluginChange
from tgstats.host.records import PluginRecord
from tgstats.plugins import (
    CommandContext,
    MessageContext,
    NoConfig,
    PhotoReply,
    Plugin,
    TextReply,
    command,
    listener,
)

from .conftest import record

CHAT = -100500
BIG_PNG = b"\x89PNG\r\n\x1a\n" + random.Random(7).randbytes(400_000)
ALICE = 11
BOB = 12


class EchoPlugin(Plugin[NoConfig]):
    greeting = "echo"

    def __init__(self, config: NoConfig, host: Any) -> None:
        super().__init__(config, host)
        self.heard: list[str] = []
        self.threads: set[str] = set()

    @command("echo", "Repeat the arguments")
    def echo(self, ctx: CommandContext) -> TextReply:
        self.threads.add(threading.current_thread().name)
        count = ctx.store.count_messages(ctx.chat_id)
        return TextReply(
            f"{self.greeting}: {' '.join(ctx.args)} ({count} stored, {ctx.chat_title})"
        )

    @command("table", "A monospace table")
    async def table(self, ctx: CommandContext) -> TextReply:
        return TextReply("a < b & c\n1   2", monospace=True)

    @command("pic", "A photo")
    async def pic(self, ctx: CommandContext) -> PhotoReply:
        return PhotoReply(png=b"\x89PNG\r\n\x1a\nfake", caption="a picture")

    @command("bigpic", "A large photo")
    async def bigpic(self, ctx: CommandContext) -> PhotoReply:
        return PhotoReply(png=BIG_PNG, caption="big & <bold>")

    @command("silent", "Says nothing")
    async def silent(self, ctx: CommandContext) -> None:
        return None

    @listener
    async def hear(self, ctx: MessageContext) -> None:
        self.heard.append(ctx.message.text or "")


class LoudEchoPlugin(EchoPlugin):
    greeting = "ECHO v2"


class BoomPlugin(Plugin[NoConfig]):
    @command("boom", "Always fails")
    def boom(self, ctx: CommandContext) -> TextReply:
        raise RuntimeError("kaboom")

    @command("wrong", "Returns the wrong type")
    async def wrong(self, ctx: CommandContext) -> Any:
        return "not a reply"

    @listener
    async def hear(self, ctx: MessageContext) -> None:
        raise ValueError("listener broke")


async def test_command_answers_with_store_and_chat_title(harness: Any) -> None:
    echo = record("echo", EchoPlugin, harness.store)
    harness.handlers.install(echo)
    await harness.send(CHAT, ALICE, "hello there", title="Team chat")
    reply = await harness.reply_to(CHAT, BOB, "/echo a b")
    # Both messages were recorded before the command ran (recorder group first).
    assert reply.text == "echo: a b (2 stored, Chat -100500)"
    assert reply.method == "sendMessage"
    # A plain `def` command ran in a worker thread, not on the event loop.
    assert echo.instance.threads and "MainThread" not in echo.instance.threads


async def test_monospace_photo_and_silent_replies(harness: Any) -> None:
    harness.handlers.install(record("echo", EchoPlugin, harness.store))
    table = await harness.reply_to(CHAT, ALICE, "/table")
    assert table.parse_mode == "HTML"
    assert table.text == "<pre>a &lt; b &amp; c\n1   2</pre>"
    assert table.plain == "a < b & c\n1   2"
    photo = await harness.reply_to(CHAT, ALICE, "/pic")
    assert photo.method == "sendPhoto"
    assert photo.photo.startswith(b"\x89PNG")
    assert photo.caption == "a picture"
    big = await harness.reply_to(CHAT, ALICE, "/bigpic")
    assert big.photo == BIG_PNG  # multipart upload arrives byte for byte
    assert big.caption == "big & <bold>"
    sent_before = len(harness.api.sent)
    await harness.send(CHAT, ALICE, "/silent")
    await harness.settle()
    assert len(harness.api.sent) == sent_before


async def test_listener_sees_every_recorded_message(harness: Any) -> None:
    echo = record("echo", EchoPlugin, harness.store)
    harness.handlers.install(echo)
    for text in ("one", "two", "/echo three"):
        await harness.send(CHAT, ALICE, text)
    await harness.settle()
    assert echo.instance.heard == ["one", "two", "/echo three"]


async def test_failing_handler_apologises_and_others_carry_on(harness: Any, log_lines: Any) -> None:
    echo = record("echo", EchoPlugin, harness.store)
    harness.handlers.install(record("boom", BoomPlugin, harness.store))
    harness.handlers.install(echo)

    reply = await harness.reply_to(CHAT, ALICE, "/boom")
    assert reply.text == apology("boom")
    logged = log_lines.getvalue()
    assert "plugin_handler_failed" in logged
    assert "plugin=boom" in logged and "kaboom" in logged

    wrong = await harness.reply_to(CHAT, ALICE, "/wrong")
    assert wrong.text == apology("wrong")
    assert "returned str" in log_lines.getvalue()

    # The broken listener did not stop the other plugin's listener or command.
    assert (await harness.reply_to(CHAT, ALICE, "/echo still here")).text.startswith("echo: still")
    await harness.settle()  # listeners run after the command, in a later group
    assert "listener=hear" in log_lines.getvalue()
    assert "/echo still here" in echo.instance.heard


async def test_each_plugin_gets_its_own_groups(harness: Any) -> None:
    harness.handlers.install(record("echo", EchoPlugin, harness.store))
    harness.handlers.install(record("boom", BoomPlugin, harness.store))
    echo_group = harness.handlers.group_of("echo")
    boom_group = harness.handlers.group_of("boom")
    assert echo_group >= FIRST_PLUGIN_GROUP and boom_group >= FIRST_PLUGIN_GROUP
    assert echo_group != boom_group and abs(echo_group - boom_group) >= 2
    commands = {
        name
        for handler in harness.application.handlers[echo_group]
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }
    assert commands == {"echo", "table", "pic", "bigpic", "silent"}
    assert [spec.name for spec in harness.handlers.commands()] == [
        "boom", "wrong", "echo", "table", "pic", "bigpic", "silent",
    ]  # fmt: skip


async def test_remove_drops_handlers_and_commands_go_unanswered(harness: Any) -> None:
    harness.handlers.install(record("echo", EchoPlugin, harness.store))
    group = harness.handlers.group_of("echo")
    assert (await harness.reply_to(CHAT, ALICE, "/echo x")).text.startswith("echo: x")
    harness.handlers.remove("echo")
    assert group not in harness.application.handlers
    assert group + 1 not in harness.application.handlers
    assert harness.handlers.commands() == []
    sent_before = len(harness.api.sent)
    await harness.send(CHAT, ALICE, "/echo y")
    await harness.settle()
    assert len(harness.api.sent) == sent_before
    # ... but the message is still recorded: the recorder is the host's.
    assert harness.store.queries.count_messages(CHAT) == 2


async def test_apply_swaps_old_for_new_and_keeps_the_group(harness: Any) -> None:
    old = record("echo", EchoPlugin, harness.store)
    new = record("echo", LoudEchoPlugin, harness.store)
    harness.handlers.install(old)
    group = harness.handlers.group_of("echo")
    async with harness.application.update_lock:
        harness.handlers.apply([PluginChange("echo", old, new)])
    assert harness.handlers.group_of("echo") == group
    assert len(harness.application.handlers[group]) == 5  # not 10: the old ones are gone
    assert (await harness.reply_to(CHAT, ALICE, "/echo hi")).text.startswith("ECHO v2: hi")
    async with harness.application.update_lock:
        harness.handlers.apply([PluginChange("echo", new, None)])
    assert harness.handlers.installed() == []


async def test_swap_waits_for_the_update_in_progress(harness: Any) -> None:
    """An update being processed finishes on the old handlers; the next sees the new."""
    started, release = asyncio.Event(), asyncio.Event()

    class SlowPlugin(Plugin[NoConfig]):
        @command("slow", "Takes its time")
        async def slow(self, ctx: CommandContext) -> TextReply:
            started.set()
            await release.wait()
            return TextReply("old version")

    class FastPlugin(Plugin[NoConfig]):
        @command("slow", "Quick now")
        async def slow(self, ctx: CommandContext) -> TextReply:
            return TextReply("new version")

    old, new = record("slow", SlowPlugin, harness.store), record("slow", FastPlugin, harness.store)
    harness.handlers.install(old)
    await harness.send(CHAT, ALICE, "/slow")
    await asyncio.wait_for(started.wait(), 10)

    async def swap() -> None:
        async with harness.application.update_lock:
            harness.handlers.apply([PluginChange("slow", old, new)])

    swapping = asyncio.create_task(swap())
    await harness.send(CHAT, ALICE, "/slow")  # arrives during the swap
    await asyncio.sleep(0.2)
    assert not swapping.done()  # blocked behind the running update
    release.set()
    await asyncio.wait_for(swapping, 10)
    await harness.api.wait_until(lambda: len(harness.api.sent_to(CHAT)) == 2, 10, "two replies")
    assert [m.text for m in harness.api.sent_to(CHAT)] == ["old version", "new version"]
    assert harness.store.queries.count_messages(CHAT) == 2


def test_install_needs_an_instance() -> None:
    from tgstats.bot.handlers import PluginHandlers

    handlers = PluginHandlers(application=None, queries=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no instance"):
        handlers.install(PluginRecord(name="x", state="failed", enabled=True))
