"""The language the bot answers an update in (see :mod:`tgstats.plugins._i18n`)."""

from __future__ import annotations

from telegram import Update

from tgstats.plugins._i18n import resolve_language

__all__ = ["language_for"]


def language_for(update: Update | None, chat_language: str | None = None) -> str:
    """The chat's language if it chose one, else the sender's or presser's, else English.

    ``chat_language`` is the chat's own setting (None: not set).  The member is
    whoever sent the command or pressed the button (``effective_user``), as
    Telegram reports their app's language (``language_code``).
    """
    user = update.effective_user if update is not None else None
    return resolve_language(chat_language, user.language_code if user is not None else None)
