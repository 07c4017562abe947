"""BotRuntime with real plugin distributions: one owner per command, and what
/plugins and the admins' direct messages say about failed and fixed reloads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from tgstats.bot.runtime import BotRuntime
from tgstats.bot.settings import BotSettings

from .conftest import fake_bot_api

GROUP = -100900
ADMIN = 1
USER = 7


@attrs.define
class Bot:
    """A running BotRuntime on a PluginEnv's plugins (hot reload off: tests reload)."""

    api: Any
    env: Any
    tmp_path: Path
    runtime: BotRuntime | None = None
    task: asyncio.Task[int] | None = None

    async def start(self, plugins: dict[str, Any]) -> None:
        self.env.write_config(plugins, hot_reload=False)
        settings = BotSettings(
            token=self.api.token,
            api_url=self.api.url,
            db_url=f"sqlite:///{self.tmp_path / 'bot.db'}",
            plugins_config=self.env.config,
            admins=frozenset({ADMIN}),
            log_file=self.tmp_path / "tgstats.log",
        )
        self.runtime = BotRuntime(settings, poll_timeout=1)
        task = self.task = asyncio.create_task(self.runtime.run())
        await self.api.wait_until(
            lambda: task.done() or self.api.call_count("getUpdates"), 10, "polling"
        )
        assert not task.done(), task.result()

    @property
    def manager(self) -> Any:
        assert self.runtime is not None and self.runtime.manager is not None
        return self.runtime.manager

    async def ask(self, chat: int, user: int, text: str) -> Any:
        before = len(self.api.sent_to(chat))
        self.api.send_message(chat, user, text)
        return await self.api.wait_until(
            lambda: self.api.reply_after(chat, before), 10, f"reply to {text!r}"
        )

    async def plugins(self) -> list[str]:
        """/plugins without the shipped plugins (the env's allow-list disables them)."""
        lines = (await self.ask(GROUP, ADMIN, "/plugins")).text.splitlines()
        return [line for line in lines if not line.endswith(": disabled")]

    def dms(self) -> list[str]:
        return [m.text for m in self.api.sent_to(ADMIN)]

    async def dm_after(self, before: int) -> str:
        message = await self.api.wait_until(
            lambda: self.api.reply_after(ADMIN, before), 10, "a direct message to the admin"
        )
        return str(message.text)


@pytest.fixture
async def bot(started: Any, tmp_path: Path) -> AsyncIterator[Bot]:
    api = fake_bot_api.FakeBotApi()
    await api.start()
    running = Bot(api, started, tmp_path)
    yield running
    if running.runtime is not None and running.task is not None:
        running.runtime.request_stop("test")
        await asyncio.wait_for(running.task, 20)
    await api.stop()


async def test_two_plugins_declaring_count_give_one_answer(bot: Bot) -> None:
    alpha = bot.env.new_plugin("alpha", value="alpha", command="count")
    beta = bot.env.new_plugin("beta", value="beta", command="count")
    await bot.start({alpha.name: True, beta.name: True})
    assert (await bot.ask(GROUP, USER, "/count")).text == "alpha"
    await bot.ask(GROUP, USER, "/optin")  # processed after /count: any second answer is in
    assert [m.text for m in bot.api.sent_to(GROUP)][:1] == ["alpha"]
    assert len(bot.api.sent_to(GROUP)) == 2
    assert bot.api.menu().count("count") == 1
    lines = await bot.plugins()
    assert f"{alpha.name} 0.1: loaded" in lines
    assert (
        f"{beta.name} 0.1: failed: command /count of plugin {beta.name!r} "
        f"is already taken by plugin {alpha.name!r}"
    ) in lines
    # alpha renames its command: beta answers /count, alpha /tally, both listed.
    alpha.write_code(value="alpha", command="tally")
    before = len(bot.dms())
    await bot.manager.reload([alpha.name])
    assert (await bot.ask(GROUP, USER, "/count")).text == "beta"
    assert (await bot.ask(GROUP, USER, "/tally")).text == "alpha"
    assert {"count", "tally"} <= set(bot.api.menu())
    assert await bot.dm_after(before) == f"Plugin {beta.name} 0.1 reloaded cleanly; " + (
        "the new version is serving."
    )


async def test_failed_reload_shows_in_plugins_and_the_fix_is_announced(bot: Bot) -> None:
    probe = bot.env.new_plugin("probe", value="v1", command="probe")
    await bot.start({probe.name: True})
    assert await bot.plugins() == [f"{probe.name} 0.1: loaded"]

    broken = probe.source(value="v2", command="probe").replace("def answer(", "def answer(:")
    probe.write("__init__.py", broken)
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "def answer(:" in text)
    before = len(bot.dms())
    await bot.manager.reload([probe.name])
    dm = await bot.dm_after(before)
    assert dm.startswith(
        f"Automatic reload of plugin {probe.name} failed; the previous version keeps serving."
    )
    assert (await bot.ask(GROUP, USER, "/probe")).text == "v1"
    (listed,) = await bot.plugins()
    assert listed.startswith(
        f"{probe.name} 0.1: loaded; the last reload failed: {probe.init}:{line} syntax error"
    )
    assert listed.endswith("(serving the previous version)")

    probe.write_code(value="v3", command="probe")
    before = len(bot.dms())
    await bot.manager.reload([probe.name])
    assert await bot.dm_after(before) == (
        f"Plugin {probe.name} 0.1 reloaded cleanly; the new version is serving."
    )
    assert await bot.plugins() == [f"{probe.name} 0.1: loaded"]
    assert (await bot.ask(GROUP, USER, "/probe")).text == "v3"


async def test_a_bad_plugins_yaml_is_reported_as_the_configuration(bot: Bot) -> None:
    probe = bot.env.new_plugin("probe", value="v1", command="probe")
    await bot.start({probe.name: True})
    config = bot.env.config
    good = config.read_text()
    config.write_text("settings:\n  reload_check_interval: -3\nplugins: {}\n")
    before = len(bot.dms())
    report = await bot.manager.reload([], config_changed=True)
    assert report.config_problem is not None
    dm = await bot.dm_after(before)
    assert dm.splitlines() == [
        f"Automatic reload of the configuration plugins.yaml failed: {config}:2: "
        "settings.reload_check_interval: expected a number > 0, found -3 (int)",
        "The previous configuration keeps serving.",
    ]
    lines = await bot.plugins()
    assert lines == [
        f"configuration plugins.yaml: the last reload failed: {config}:2: "
        "settings.reload_check_interval: expected a number > 0, found -3 (int) "
        "(serving the previous configuration)",
        f"{probe.name} 0.1: loaded",
    ]
    assert (await bot.ask(GROUP, USER, "/probe")).text == "v1"  # the old config serves

    config.write_text(good)
    before = len(bot.dms())
    assert (await bot.manager.reload([], config_changed=True)).ok
    assert await bot.dm_after(before) == (
        "The configuration plugins.yaml loads cleanly again and is in use."
    )
    assert await bot.plugins() == [f"{probe.name} 0.1: loaded"]
