"""Fixtures for the engagement tests: a real SQLite store and the plugin built from its config."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import telegram
import tgstats_engagement.plugin as engagement_module
import yaml
from tgstats.config import load_host_config, resolve_plugin_config
from tgstats.logs import get_logger
from tgstats.plugins.api import CommandContext, Reply, invoke_command
from tgstats.store import open_store
from tgstats.testing import make_chat, utc

PLUGIN_NAME = "engagement_scores"
NOW = utc("2026-11-01T12:00:00Z")


class PluginTestHost:
    """The services a plugin gets from the host, minus the bot."""

    def __init__(self, name: str, store: Any) -> None:
        self._name, self._store = name, store

    @property
    def name(self) -> str:
        return self._name

    @property
    def store(self) -> Any:
        return self._store

    @property
    def log(self) -> Any:
        return get_logger(self._name)

    def create_task(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        return asyncio.get_running_loop().create_task(coro)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    opened = open_store(f"sqlite:///{tmp_path / 'engagement.db'}")
    yield opened
    opened.close()


@pytest.fixture
def chat() -> telegram.Chat:
    return make_chat(-100800, "Book club")


@pytest.fixture
def make_plugin(tmp_path: Path, store: Any) -> Callable[..., engagement_module.EngagementPlugin]:
    """The plugin with plugin.yaml layered under ``overrides`` (as an operator's plugins.yaml)."""

    def build(**overrides: Any) -> engagement_module.EngagementPlugin:
        path = tmp_path / "plugins.yaml"
        path.write_text(yaml.safe_dump({"plugins": {PLUGIN_NAME: {"config": overrides}}}))
        resolved = resolve_plugin_config(
            PLUGIN_NAME,
            engagement_module.Config,
            plugin_yaml=Path(engagement_module.__file__).parent / "plugin.yaml",
            host_config=load_host_config(path),
        )
        return engagement_module.EngagementPlugin(
            resolved.value, PluginTestHost(PLUGIN_NAME, store.queries)
        )

    return build


@pytest.fixture
def context(store: Any, chat: telegram.Chat) -> Callable[..., CommandContext]:
    def build(*args: str, now: datetime = NOW, chat_id: int | None = None) -> CommandContext:
        return CommandContext(
            command="engagement",
            args=args,
            chat_id=chat.id if chat_id is None else chat_id,
            chat_title=chat.title,
            user_id=1,
            now=now,
            store=store.queries,
        )

    return build


@pytest.fixture
def run(context: Callable[..., CommandContext]) -> Callable[..., Awaitable[Reply | None]]:
    """Run /engagement through invoke_command, the path the bot uses."""

    async def call(
        plugin: engagement_module.EngagementPlugin, *args: str, **kw: Any
    ) -> Reply | None:
        (spec,) = [s for s in plugin.commands() if s.name == "engagement"]
        return await invoke_command(plugin, spec, context(*args, **kw))

    return call
