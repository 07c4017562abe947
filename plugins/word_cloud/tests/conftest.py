"""Fixtures for the word cloud tests: a real SQLite store and the plugin built from its config."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import telegram
from tgstats.plugins import CommandContext, Reply
from tgstats.store import open_store
from tgstats.testing import command_context, configure_plugin, make_chat, run_command, utc
from tgstats_word_cloud.plugin import WordCloudPlugin

PLUGIN_NAME = "word_cloud"
COMMAND = "wordcloud"
NOW = utc("2026-11-01T12:00:00Z")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Any]:
    opened = open_store(f"sqlite:///{tmp_path / 'word_cloud.db'}")
    yield opened
    opened.close()


@pytest.fixture
def chat() -> telegram.Chat:
    return make_chat(-100700, "Polyglots")


@pytest.fixture
def make_plugin(tmp_path: Path, store: Any) -> Callable[..., WordCloudPlugin]:
    """The plugin with plugin.yaml layered under ``overrides`` (as an operator's plugins.yaml)."""

    def build(**overrides: Any) -> WordCloudPlugin:
        return configure_plugin(WordCloudPlugin, PLUGIN_NAME, store, tmp_path, **overrides)

    return build


@pytest.fixture
def context(store: Any, chat: telegram.Chat) -> Callable[..., CommandContext]:
    def build(*args: str, now: Any = NOW, chat_id: int | None = None) -> CommandContext:
        return command_context(COMMAND, store, chat, *args, now=now, chat_id=chat_id)

    return build


@pytest.fixture
def run(context: Callable[..., CommandContext]) -> Callable[..., Awaitable[Reply | None]]:
    """Run /wordcloud through invoke_command, the path the bot uses."""

    async def call(plugin: WordCloudPlugin, *args: str, **kw: Any) -> Reply | None:
        return await run_command(plugin, context(*args, **kw))

    return call
