"""/optout, /forgetme and /optin through the real update path, with plugins asked to forget.

The messages go through the Bot API stand-in, the bot's own polling, intake,
recorder and router; the plugins are real Plugin instances whose
``forget_member`` hook the host calls (one of them raises, and must not stop
the other).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy
from tgstats.bot.admin import AdminCommands
from tgstats.host.forgetting import forget_member
from tgstats.host.records import PluginRecord
from tgstats.host.services import Host
from tgstats.plugins import NoConfig, Plugin
from tgstats.store.schema import answered_commands, users

GROUP = -100701
OTHER = -100702
ALICE = 41
BOB = 42


class Remembers(Plugin[NoConfig]):
    """Keeps per-member data of its own, as a plugin with its own table or file would."""

    def __init__(self, config: NoConfig, host: Any) -> None:
        super().__init__(config, host)
        self.seen: dict[tuple[int, int], int] = {
            (GROUP, ALICE): 3,
            (OTHER, ALICE): 1,
            (GROUP, BOB): 2,
        }
        self.calls: list[tuple[int | None, int]] = []

    async def forget_member(self, chat_id: int | None, user_id: int) -> None:
        self.calls.append((chat_id, user_id))
        for key in list(self.seen):
            if key[1] == user_id and chat_id in (None, key[0]):
                del self.seen[key]


class Broken(Plugin[NoConfig]):
    async def forget_member(self, chat_id: int | None, user_id: int) -> None:
        raise RuntimeError("the plugin's disk is gone")


class Privacy:
    def __init__(self, harness: Any) -> None:
        store = harness.store
        # "a_broken" sorts first: the failure comes before the plugin that works.
        broken = Broken(NoConfig(), Host("a_broken", store.queries))
        remembers = Remembers(NoConfig(), Host("remembers", store.queries))
        self.records = [
            PluginRecord("a_broken", "loaded", True, instance=broken),
            PluginRecord("remembers", "loaded", True, instance=remembers),
        ]
        self.remembers = remembers
        self.commands = AdminCommands(
            admins=frozenset(),
            store=harness.writer,
            list_plugins=lambda: self.records,
            reload=self._no_reload,
            spawn=lambda coro: asyncio.get_running_loop().create_task(coro),
            forget=lambda chat_id, user_id: forget_member(self.records, chat_id, user_id),
        )
        harness.handlers.set_host_commands(self.commands.routes())

    async def _no_reload(self) -> Any:
        raise AssertionError("not reloading here")


@pytest.fixture
def privacy(harness: Any) -> Privacy:
    return Privacy(harness)


async def private_reply(harness: Any, user_id: int, text: str) -> Any:
    """Send ``text`` to the bot in the private chat with ``user_id``; the bot's answer."""
    api = harness.api
    before = len(api.sent_to(user_id))
    api.send_message(user_id, user_id, text, chat_type="private")
    return await api.wait_until(lambda: api.reply_after(user_id, before), 10, f"reply to {text!r}")


def names(harness: Any) -> list[int]:
    with harness.store.engine.connect() as connection:
        return sorted(connection.execute(sqlalchemy.select(users.c.user_id)).scalars())


async def chatter(harness: Any) -> None:
    for chat, user, text in [(GROUP, ALICE, "a"), (GROUP, BOB, "b"), (OTHER, ALICE, "c")]:
        await harness.send(chat, user, text)
    await harness.settle()


async def test_optout_asks_every_plugin_and_survives_a_broken_one(
    harness: Any, privacy: Privacy, log_lines: Any
) -> None:
    await chatter(harness)
    reply = await harness.reply_to(GROUP, ALICE, "/optout")
    assert reply.text.startswith("Done: I forgot 2 of your messages in this chat")
    assert "The plugin a_broken could not forget you yet" in reply.text
    # The plugin after the broken one was still asked, for this chat only.
    assert privacy.remembers.calls == [(GROUP, ALICE)]
    assert privacy.remembers.seen == {(OTHER, ALICE): 1, (GROUP, BOB): 2}
    logged = log_lines.getvalue()
    assert "plugin_forget_failed" in logged and "a_broken" in logged
    assert "the plugin's disk is gone" in logged


async def test_forgetme_in_private_forgets_every_chat(harness: Any, privacy: Privacy) -> None:
    await chatter(harness)
    assert names(harness) == [ALICE, BOB]
    reply = await private_reply(harness, ALICE, "/forgetme")
    assert reply.text.startswith("Done: I forgot 2 of your messages in 2 chats, and your name")
    queries = harness.store.queries
    assert queries.count_messages(GROUP, user_id=ALICE) == 0
    assert queries.count_messages(OTHER, user_id=ALICE) == 0
    assert queries.count_messages(GROUP, user_id=BOB) == 1
    assert names(harness) == [BOB]
    with harness.store.engine.connect() as connection:
        private = sqlalchemy.select(answered_commands).where(answered_commands.c.chat_id == ALICE)
        assert connection.execute(private).first() is None  # the /forgetme's own claim too
    assert privacy.remembers.calls == [(None, ALICE)]
    assert privacy.remembers.seen == {(GROUP, BOB): 2}

    # Not recorded anywhere afterwards, until /optin in private.
    await harness.send(GROUP, ALICE, "still here")
    await harness.settle()
    assert queries.count_messages(GROUP, user_id=ALICE) == 0 and names(harness) == [BOB]
    reply = await private_reply(harness, ALICE, "/optin")
    assert "every group will be recorded again" in reply.text
    await harness.send(OTHER, ALICE, "back")
    await harness.settle()
    assert [m.text for m in queries.messages(OTHER, user_id=ALICE)] == ["back"]
    assert names(harness) == [ALICE, BOB]


async def test_optout_in_private_means_every_chat(harness: Any, privacy: Privacy) -> None:
    await chatter(harness)
    reply = await private_reply(harness, ALICE, "/optout")
    assert "in 2 chats" in reply.text
    assert harness.store.is_opted_out(GROUP, ALICE) and harness.store.is_opted_out(OTHER, ALICE)


async def test_forgetme_in_a_group_points_to_the_private_chat(
    harness: Any, privacy: Privacy
) -> None:
    await chatter(harness)
    reply = await harness.reply_to(GROUP, ALICE, "/forgetme")
    assert "send /forgetme to me in a private chat" in reply.text
    assert harness.store.queries.count_messages(OTHER, user_id=ALICE) == 1
    assert privacy.remembers.calls == []
    assert names(harness) == [ALICE, BOB]
