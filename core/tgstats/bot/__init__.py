"""The python-telegram-bot runtime behind ``tgstats run``."""

from __future__ import annotations

from tgstats.bot.app import SerialApplication, build_application
from tgstats.bot.runtime import BotRuntime
from tgstats.bot.settings import BotSettings, resolve_settings

__all__ = [
    "BotRuntime",
    "BotSettings",
    "SerialApplication",
    "build_application",
    "resolve_settings",
]
