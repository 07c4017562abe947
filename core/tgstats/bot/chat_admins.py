"""Who administers a chat, as Telegram reports it, cached briefly.

``/settings`` is open to a chat's administrators (``getChatAdministrators``)
and to the bot's own admins (``TGSTATS_ADMINS``).  The list is cached for
:data:`CACHE_SECONDS` per chat so a burst of commands costs one request, and
dropped at once when a ``chat_member`` update says someone's status in that
chat changed (promoted, demoted, left), so a demoted admin loses access with
the next command rather than minutes later.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from telegram import Bot, ChatMember, ChatMemberUpdated, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, ChatMemberHandler, ContextTypes

from tgstats.logs import get_logger

__all__ = ["CACHE_SECONDS", "ChatAdmins"]

log = get_logger(__name__)

CACHE_SECONDS = 60.0
_ADMIN_STATUSES = {ChatMember.ADMINISTRATOR, ChatMember.OWNER}
_MAX_CHATS = 10_000


class ChatAdmins:
    def __init__(
        self, bot: Bot, bot_admins: frozenset[int], *, cache_seconds: float = CACHE_SECONDS
    ) -> None:
        self._bot = bot
        self._bot_admins = bot_admins
        self._cache_seconds = cache_seconds
        self._cache: dict[int, tuple[float, frozenset[int]]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self.requests = 0  # getChatAdministrators calls made (tests read it)

    async def is_admin(self, chat_id: int, user_id: int | None, *, private: bool = False) -> bool:
        """Whether ``user_id`` may change ``chat_id``'s settings.

        In a private chat the only member is the user, who is its admin.  If
        Telegram cannot be asked (network, the bot was removed), only the
        bot's own admins are let in: refusing is the safe side."""
        if user_id is None:
            return False
        if user_id in self._bot_admins or private:
            return True
        try:
            admins = await self.admins_of(chat_id)
        except TelegramError as error:
            log.warning("chat_admins_unavailable", chat_id=chat_id, error=str(error))
            return False
        return user_id in admins

    async def admins_of(self, chat_id: int) -> frozenset[int]:
        hit = self._cache.get(chat_id)
        if hit is not None and time.monotonic() - hit[0] < self._cache_seconds:
            return hit[1]
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:  # one request per chat, however many commands wait for it
            hit = self._cache.get(chat_id)
            if hit is not None and time.monotonic() - hit[0] < self._cache_seconds:
                return hit[1]
            self.requests += 1
            members = await self._bot.get_chat_administrators(chat_id)
            admins = frozenset(member.user.id for member in members)
            if len(self._cache) >= _MAX_CHATS:
                self._cache.clear()
                self._locks = {chat_id: lock}
            self._cache[chat_id] = (time.monotonic(), admins)
            log.debug("chat_admins_fetched", chat_id=chat_id, count=len(admins))
            return admins

    def forget(self, chat_id: int) -> None:
        self._cache.pop(chat_id, None)

    def on_member_update(self, change: ChatMemberUpdated) -> None:
        """A ``chat_member`` update: drop the chat's list if an admin status changed."""
        old, new = change.old_chat_member, change.new_chat_member
        was, now = old.status in _ADMIN_STATUSES, new.status in _ADMIN_STATUSES
        if was or now:
            self.forget(change.chat.id)
            log.info(
                "chat_admins_changed",
                chat_id=change.chat.id,
                user_id=new.user.id,
                old=old.status,
                new=new.status,
            )

    def handler(self) -> BaseHandler[Update, Any, None]:
        """The PTB handler feeding :meth:`on_member_update` with ``chat_member`` updates."""

        async def changed(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
            if update.chat_member is not None:
                self.on_member_update(update.chat_member)

        return ChatMemberHandler(changed, ChatMemberHandler.CHAT_MEMBER)
