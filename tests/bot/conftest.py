"""A real python-telegram-bot Application wired to the local Bot API stand-in."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from tgstats.bot.app import TgstatsApplication, build_application
from tgstats.bot.handlers import PluginHandlers
from tgstats.bot.intake import UpdateIntake
from tgstats.bot.polling import Poller
from tgstats.bot.recorder import ALLOWED_UPDATES, Recorder
from tgstats.bot.settings import BotSettings
from tgstats.host.records import PluginRecord
from tgstats.host.services import Host
from tgstats.logs import configure_logging
from tgstats.plugins import NoConfig, Plugin
from tgstats.store import Store, open_store
from tgstats.store.writer import StoreWriter

from ..e2e import fake_bot_api  # the Bot API stand-in shared with the e2e tests


@pytest.fixture
async def fake_api() -> AsyncIterator[Any]:
    api = fake_bot_api.FakeBotApi()
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'bot.db'}")
    yield opened
    opened.close()


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything tgstats logs during the test, rendered as in the log file."""
    stream = io.StringIO()
    configure_logging(stream=stream, secrets=[fake_bot_api.DEFAULT_TOKEN])
    yield stream
    configure_logging(stream=sys.stderr)


@attrs.define
class Harness:
    api: Any
    application: TgstatsApplication
    store: Store
    recorder: Recorder
    writer: StoreWriter
    handlers: PluginHandlers
    intake: UpdateIntake

    async def send(self, chat_id: int, user_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        return self.api.send_message(chat_id, user_id, text, **kwargs)

    async def reply_to(self, chat_id: int, user_id: int, text: str, timeout: float = 10.0) -> Any:
        """Send ``text`` and wait for the bot's next message in ``chat_id``."""
        before = len(self.api.sent_to(chat_id))
        self.api.send_message(chat_id, user_id, text)
        return await self.api.wait_until(
            lambda: self.api.reply_after(chat_id, before), timeout, f"reply to {text!r}"
        )

    async def settle(self) -> None:
        """Wait until every injected update was committed, confirmed and handled."""
        await self.api.wait_until(lambda: self.api.pending_count() == 0, 10, "updates confirmed")
        await self.api.wait_until(lambda: self.intake.lanes.queued == 0, 10, "lanes idle")


def record(name: str, cls: type[Plugin[Any]], store: Store) -> PluginRecord:
    """A loaded record of plugin class ``cls`` (no config), ready for ``handlers.install``."""
    return PluginRecord(
        name=name, state="loaded", enabled=True, instance=cls(NoConfig(), Host(name, store.queries))
    )


def bot_settings(api: Any, *, admins: frozenset[int] = frozenset()) -> BotSettings:
    return BotSettings(
        token=api.token,
        api_url=api.url,
        db_url="sqlite://",
        plugins_config=Path("plugins.yaml"),
        admins=admins,
        log_file=Path("tgstats.log"),
    )


@pytest.fixture
async def harness(fake_api: Any, store: Store) -> AsyncIterator[Harness]:
    """The bot's update path (own polling -> intake -> lanes -> handlers) on a real Application."""
    application = build_application(bot_settings(fake_api))
    handlers: PluginHandlers | None = None
    writer = StoreWriter(store)
    writer.start()
    recorder = Recorder(writer)
    intake = UpdateIntake(
        application,
        recorder,
        has_listeners=lambda: handlers is not None and handlers.has_listeners(),
        has_event_listeners=lambda: handlers is not None and handlers.has_event_listeners(),
        commands=lambda: [spec.name for spec in handlers.commands()] if handlers else [],
    )
    handlers = PluginHandlers(
        application, store.queries, was_recorded=intake.was_recorded, events_of=intake.events_of
    )
    await application.initialize()
    await application.start()
    poller = Poller(
        application.bot, intake.submit_batch, timeout=1, allowed_updates=ALLOWED_UPDATES
    )
    polling = asyncio.create_task(poller.run())
    yield Harness(fake_api, application, store, recorder, writer, handlers, intake)
    poller.stop()
    await polling
    await intake.lanes.drain(10)
    await application.stop()
    await writer.stop()
    await application.shutdown()
