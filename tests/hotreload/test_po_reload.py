"""An edited .po file reloads its plugin; a broken one fails the reload and the old text serves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from tgstats.config import Settings
from tgstats.host.invoke import invoke_command
from tgstats.host.manager import PluginManager
from tgstats.hotreload.reloader import Reloader
from tgstats.plugins import CommandContext, TextReply

from ..plugin_env import FakePlugin, PluginEnv, wait_until

CODE = """
from tgstats.plugins import Plugin, TextReply, _, command


class P(Plugin):
    @command("{command}", "greet")
    def greet(self, ctx):
        return TextReply(_("Good morning"))
"""

PO = r"""msgid ""
msgstr ""
"Language: ru\n"
"Content-Type: text/plain; charset=UTF-8\n"

msgid "Good morning"
msgstr "{text}"
"""


def write_po(plugin: FakePlugin, text: str) -> None:
    po = PO.replace("{text}", text)
    plugin.write(f"locale/ru/LC_MESSAGES/{plugin.package}.po", po)


async def greet(manager: PluginManager, plugin: FakePlugin, language: str) -> str:
    record = manager.get_plugin(plugin.name)
    assert record is not None and record.instance is not None, record
    (spec,) = record.instance.commands()
    ctx = CommandContext(
        command=spec.name,
        args=(),
        chat_id=-1,
        chat_title="t",
        user_id=1,
        now=datetime.now(UTC),
        store=None,  # type: ignore[arg-type]
        language=language,
    )
    reply = await invoke_command(record.instance, spec, ctx)
    assert isinstance(reply, TextReply)
    return reply.text


@pytest.fixture
async def translated(started: PluginEnv) -> AsyncIterator[tuple[FakePlugin, Any]]:
    env = started
    plugin = env.new_plugin("po")
    plugin.write("__init__.py", CODE.replace("{command}", f"g{plugin.package[-8:]}"))
    write_po(plugin, "Доброе утро")
    env.write_config({plugin.name: True})
    reloaders: list[Reloader] = []

    async def run() -> PluginManager:
        manager = env.manager()
        await manager.start()
        reloader = Reloader(manager)
        reloaders.append(reloader)
        await reloader.start()
        return manager

    yield plugin, run
    for reloader in reloaders:
        await reloader.stop()


def test_po_files_are_watched_by_default() -> None:
    assert "*.po" in Settings().watch_patterns


async def test_saving_a_po_file_reloads_the_plugin_with_the_new_text(translated) -> None:
    plugin, run = translated
    manager = await run()
    assert await greet(manager, plugin, "ru") == "Доброе утро"
    assert await greet(manager, plugin, "en") == "Good morning"
    old = manager.get_plugin(plugin.name).instance
    write_po(plugin, "С добрым утром")

    async def reloaded() -> bool:
        return manager.get_plugin(plugin.name).instance is not old

    await wait_until(reloaded, timeout=10)
    assert await greet(manager, plugin, "ru") == "С добрым утром"


async def test_a_broken_po_fails_the_reload_at_its_line_and_the_old_text_serves(
    translated,
) -> None:
    plugin, run = translated
    manager = await run()
    old = manager.get_plugin(plugin.name).instance
    po = plugin.pkg_dir / f"locale/ru/LC_MESSAGES/{plugin.package}.po"
    po.write_text(po.read_text(encoding="utf-8").replace('"Доброе утро"', '"Доброе утро'))
    report = await manager.reload([plugin.name])
    (failure,) = report.failed
    assert failure.error_file == str(po)
    assert failure.error_line == 7
    assert "translation catalog" in (failure.reason or "")
    assert manager.get_plugin(plugin.name).instance is old
    assert await greet(manager, plugin, "ru") == "Доброе утро"
