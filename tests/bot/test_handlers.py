"""The router: one fixed PTB handler, a route table swapped whole; install, answer,
apology, removal, swap, snapshots of in-flight updates, host routes."""

from __future__ import annotations

import asyncio
import random
import threading
from typing import Any

import pytest
from tgstats.bot.handlers import ROUTER_GROUP, apology
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


def ptb_handlers(harness: Any) -> dict[int, list[Any]]:
    return {group: list(handlers) for group, handlers in harness.application.handlers.items()}


async def test_one_fixed_ptb_handler_routes_every_plugin(harness: Any) -> None:
    before = ptb_handlers(harness)
    assert sorted(before) == [ROUTER_GROUP]  # recording happens before PTB (the intake)
    # One for messages (commands, listeners), one for button presses.
    assert [type(h).__name__ for h in before[ROUTER_GROUP]] == ["_RouterHandler", "PressHandler"]
    harness.handlers.install(record("echo", EchoPlugin, harness.store))
    harness.handlers.install(record("boom", BoomPlugin, harness.store))
    # Installing changes the table, never PTB's handler lists.
    assert ptb_handlers(harness) == before
    table = harness.handlers.table
    assert {c for c, route in table.commands.items() if route.owner == "echo"} == {
        "echo", "table", "pic", "bigpic", "silent",
    }  # fmt: skip
    assert harness.handlers.owner_of("boom") == "boom"
    assert [spec.name for spec in harness.handlers.commands()] == [
        "boom", "wrong", "echo", "table", "pic", "bigpic", "silent",
    ]  # fmt: skip
    harness.handlers.remove("boom")
    assert ptb_handlers(harness) == before


async def test_remove_drops_handlers_and_commands_go_unanswered(harness: Any) -> None:
    harness.handlers.install(record("echo", EchoPlugin, harness.store))
    assert (await harness.reply_to(CHAT, ALICE, "/echo x")).text.startswith("echo: x")
    harness.handlers.remove("echo")
    assert harness.handlers.table.commands == {}
    assert not harness.handlers.has_listeners()
    assert harness.handlers.commands() == []
    sent_before = len(harness.api.sent)
    await harness.send(CHAT, ALICE, "/echo y")
    await harness.settle()
    assert len(harness.api.sent) == sent_before
    # ... but the message is still recorded: the recorder is the host's.
    assert harness.store.queries.count_messages(CHAT) == 2


async def test_apply_swaps_old_for_new_in_one_table(harness: Any) -> None:
    old = record("echo", EchoPlugin, harness.store)
    new = record("echo", LoudEchoPlugin, harness.store)
    harness.handlers.install(old)
    before = harness.handlers.table
    harness.handlers.apply([PluginChange("echo", old, new)])
    assert harness.handlers.table is not before  # replaced, not edited
    assert len(before.commands) == len(harness.handlers.table.commands) == 5  # not 10
    assert harness.handlers.installed() == ["echo"]
    assert (await harness.reply_to(CHAT, ALICE, "/echo hi")).text.startswith("ECHO v2: hi")
    harness.handlers.apply([PluginChange("echo", new, None)])
    assert harness.handlers.installed() == []


async def test_update_in_flight_keeps_its_table(harness: Any) -> None:
    """A swap does not wait for the update in progress: that update finishes
    on the table it started with (old command *and* old listeners), the next
    one sees the new table."""
    started, release = asyncio.Event(), asyncio.Event()
    heard: list[tuple[str, str]] = []

    class SlowPlugin(Plugin[NoConfig]):
        @command("slow", "Takes its time")
        async def slow(self, ctx: CommandContext) -> TextReply:
            started.set()
            await release.wait()
            return TextReply("old version")

        @listener
        async def hear(self, ctx: MessageContext) -> None:
            heard.append(("old", ctx.message.text or ""))

    class FastPlugin(Plugin[NoConfig]):
        @command("slow", "Quick now")
        async def slow(self, ctx: CommandContext) -> TextReply:
            return TextReply("new version")

        @listener
        async def hear(self, ctx: MessageContext) -> None:
            heard.append(("new", ctx.message.text or ""))

    old, new = record("slow", SlowPlugin, harness.store), record("slow", FastPlugin, harness.store)
    harness.handlers.install(old)
    await harness.send(CHAT, ALICE, "/slow first")
    await asyncio.wait_for(started.wait(), 10)
    harness.handlers.apply([PluginChange("slow", old, new)])  # no lock, no waiting
    await harness.send(CHAT, ALICE, "/slow second")
    release.set()
    await harness.api.wait_until(lambda: len(harness.api.sent_to(CHAT)) == 2, 10, "two replies")
    await harness.settle()
    assert [m.text for m in harness.api.sent_to(CHAT)] == ["old version", "new version"]
    assert heard == [("old", "/slow first"), ("new", "/slow second")]
    assert harness.store.queries.count_messages(CHAT) == 2


async def test_host_routes_answer_and_keep_their_names(harness: Any, log_lines: Any) -> None:
    calls: list[tuple[str, list[str]]] = []

    async def plugins(update: Any, context: Any) -> None:
        calls.append(("plugins", list(context.args)))
        await update.effective_message.reply_text("host here")

    class Thief(Plugin[NoConfig]):
        @command("plugins", "Not yours")
        async def steal(self, ctx: CommandContext) -> TextReply:
            return TextReply("stolen")

        @command("mine", "Really mine")
        async def mine(self, ctx: CommandContext) -> TextReply:
            return TextReply("mine")

    harness.handlers.set_host_commands({"plugins": plugins})
    # The manager refuses such a plugin; installed directly, it still loses.
    harness.handlers.install(record("thief", Thief, harness.store))
    assert "command_clash command=plugins" in log_lines.getvalue()
    assert harness.handlers.owner_of("plugins") is None
    assert (await harness.reply_to(CHAT, ALICE, "/plugins a b")).text == "host here"
    assert calls == [("plugins", ["a", "b"])]
    assert (await harness.reply_to(CHAT, ALICE, "/mine")).text == "mine"
    with pytest.raises(ValueError, match="not host commands"):
        harness.handlers.set_host_commands({"count": plugins})


async def test_commands_for_another_bot_and_edits_go_unanswered(harness: Any) -> None:
    harness.handlers.install(record("echo", EchoPlugin, harness.store))
    username = harness.application.bot.username
    reply = await harness.reply_to(CHAT, ALICE, f"/echo@{username} hi")
    assert reply.text.startswith("echo: hi")
    sent = await harness.send(CHAT, ALICE, "/echo first")
    await harness.settle()
    await harness.send(CHAT, ALICE, "/echo@some_other_bot hi")
    harness.api.edit_message(sent, "/echo edited")
    await harness.settle()
    assert [m.text.split(" (")[0] for m in harness.api.sent_to(CHAT)] == [
        "echo: hi",
        "echo: first",
    ]


def test_install_needs_an_instance() -> None:
    from tgstats.bot.handlers import PluginHandlers

    handlers = PluginHandlers(application=None, queries=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no instance"):
        handlers.install(PluginRecord(name="x", state="failed", enabled=True))
