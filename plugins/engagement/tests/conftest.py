"""Fixtures for the engagement tests: a real SQLite store and the plugin built from its config."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import telegram
from tgstats.plugins import CommandContext, Reply
from tgstats.store import open_store
from tgstats.testing import command_context, configure_plugin, make_chat, run_command, utc
from tgstats_engagement.plugin import EngagementPlugin

PLUGIN_NAME = "engagement_scores"
COMMAND = "engagement"
NOW = utc("2026-11-01T12:00:00Z")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    opened = open_store(f"sqlite:///{tmp_path / 'engagement.db'}")
    yield opened
    opened.close()


@pytest.fixture
def chat() -> telegram.Chat:
    return make_chat(-100800, "Book club")


@pytest.fixture
def make_plugin(tmp_path: Path, store: Any) -> Callable[..., EngagementPlugin]:
    """The plugin with plugin.yaml layered under ``overrides`` (as an operator's plugins.yaml)."""

    def build(**overrides: Any) -> EngagementPlugin:
        return configure_plugin(EngagementPlugin, PLUGIN_NAME, store, tmp_path, **overrides)

    return build


@pytest.fixture
def context(store: Any, chat: telegram.Chat) -> Callable[..., CommandContext]:
    def build(*args: str, now: Any = NOW, chat_id: int | None = None) -> CommandContext:
        return command_context(COMMAND, store, chat, *args, now=now, chat_id=chat_id)

    return build


@pytest.fixture
def run(context: Callable[..., CommandContext]) -> Callable[..., Awaitable[Reply | None]]:
    """Run /engagement through invoke_command, the path the bot uses."""

    async def call(plugin: EngagementPlugin, *args: str, **kw: Any) -> Reply | None:
        return await run_command(plugin, context(*args, **kw))

    return call
