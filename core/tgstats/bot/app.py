"""The python-telegram-bot Application tgstats runs on.

It has no Updater: :mod:`tgstats.bot.polling` (or the webhook) fetches the
updates, :mod:`tgstats.bot.intake` commits them, and the per-chat lanes call
:meth:`TgstatsApplication.process_update` concurrently for different chats.

Nothing locks out a plugin reload: the PTB handlers are fixed for the bot's
life (the host's commands and one router handler, :mod:`tgstats.bot.handlers`),
and a reload replaces the router's route table as a whole, so an update in
flight finishes with the table it started with, and a reload never waits for
a slow command.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, ApplicationBuilder

from tgstats.bot.settings import BotSettings

__all__ = ["TgstatsApplication", "build_application"]


class TgstatsApplication(Application):  # type: ignore[type-arg]
    """The Application, named so the bot's own type is what tests and typing see."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)


def build_application(settings: BotSettings) -> TgstatsApplication:
    application = (
        ApplicationBuilder()
        .application_class(TgstatsApplication)
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        # Our own polling loop confirms only committed updates (tgstats.bot.polling).
        .updater(None)
        .build()
    )
    assert isinstance(application, TgstatsApplication)
    return application
