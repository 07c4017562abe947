"""``/settings``: a chat's administrators choose how the bot behaves in their chat.

Text form (the inline menu, :mod:`tgstats.bot.settings_menu`, runs the same
:meth:`SettingsCommand.apply`)::

    /settings                              every setting and where its value comes from
    /settings timezone Europe/Berlin       time zone of the statistics
    /settings language ru                  language of the replies
    /settings period 7 | 30 days | all     period of a command without arguments
    /settings exclude @user | ID           leave a member out of the statistics
    /settings include @user | ID           count them again
    /settings disable PLUGIN | enable PLUGIN
    /settings PLUGIN.OPTION VALUE          one of the plugin's per-chat options
    /settings KEY default                  back to the operator's / plugin's value

Only the chat's administrators (as Telegram reports them) and the bot's own
admins may use it, even to read; anyone else gets a refusal and nothing
changes.  Input is bounded (at most :data:`MAX_ARGS` words, values of 256
characters) and every value is checked before it is stored.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import attrs
from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from tgstats.bot.chat_admins import ChatAdmins
from tgstats.host.chat_settings import (
    HOST_KEYS,
    ChatSettingsService,
    SettingError,
    option_key,
    parse_host_value,
    parse_option_text,
    plugin_key,
)
from tgstats.host.records import PluginRecord
from tgstats.logs import get_logger
from tgstats.store.queries import MessageQueries

if TYPE_CHECKING:
    from tgstats.bot.settings_menu import SettingsMenu

__all__ = ["MAX_ARGS", "SettingsCommand", "usage"]

log = get_logger(__name__)

MAX_ARGS = 40  # a value may have spaces ("30 days"), but a command is short
MAX_REPLY = 4000  # under Telegram's 4,096, leaving room for a notice above it
_RESET = {"default", "reset", "unset"}
_USER_ID = re.compile(r"-?[0-9]{1,19}")  # ASCII digits; Telegram ids fit 64 bits
_USERNAME = re.compile(r"@?[A-Za-z0-9_]{1,64}")

Write = Callable[..., Awaitable[Any]]


def usage() -> str:
    return (
        "Usage: /settings [timezone ZONE | language CODE | period N|all | "
        "exclude @user | include @user | disable PLUGIN | enable PLUGIN | "
        "PLUGIN.OPTION VALUE]; KEY default goes back to the default."
    )


@attrs.frozen
class Outcome:
    text: str
    changed: bool = False
    menu_changed: bool = False  # a plugin was switched: the chat's command menu follows


class SettingsCommand:
    def __init__(
        self,
        *,
        service: ChatSettingsService,
        admins: ChatAdmins,
        queries: MessageQueries,
        plugins: Callable[[], list[PluginRecord]],
        write: Write | None = None,
        on_plugins_changed: Callable[[int], Awaitable[None]] | None = None,
        on_changed: Callable[[int], None] | None = None,
    ) -> None:
        self.service = service
        self._admins = admins
        self._queries = queries
        self.plugins = plugins
        # Writes go through the store writer in the bot (retried through outages).
        self._write: Write = write or (lambda fn, *args: asyncio.to_thread(fn, *args))
        self._on_plugins_changed = on_plugins_changed
        # Told the chat id after any change (the scheduler looks again: a
        # per-chat schedule may have just been switched on or moved).
        self._on_changed = on_changed
        # The inline menu (tgstats.bot.settings_menu) and how to turn its rows into a
        # reply_markup for a new message; set by the runtime once buttons are ready.
        self.menu: SettingsMenu | None = None
        self.markup: Callable[[Any, int], Any] | None = None

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or chat is None:
            return
        user_id = user.id if user is not None else None
        private = chat.type == ChatType.PRIVATE
        if not await self._admins.is_admin(chat.id, user_id, private=private):
            log.warning("settings_refused", chat_id=chat.id, user_id=user_id)
            await message.reply_text("Sorry, /settings is for this chat's administrators only.")
            return
        args = tuple(context.args or ())
        if not args and self.menu is not None and self.markup is not None:
            view = await self.menu.view(chat.id)
            await message.reply_text(view.text, reply_markup=self.markup(view.buttons, chat.id))
            return
        try:
            outcome = await self.apply_and_sync(chat.id, user_id, args, message)
        except SettingError as error:
            outcome = Outcome(f"{error}\n{usage()}" if "Usage" not in str(error) else str(error))
        await message.reply_text(outcome.text)

    async def apply_and_sync(
        self,
        chat_id: int,
        user_id: int | None,
        args: tuple[str, ...],
        message: Message | None = None,
    ) -> Outcome:
        """:meth:`apply`, then the chat's command menu if a plugin was switched."""
        outcome = await self.apply(chat_id, user_id, args, message)
        if outcome.changed:
            log.info("chat_setting_changed", chat_id=chat_id, user_id=user_id, args=args[:3])
            if self._on_changed is not None:
                self._on_changed(chat_id)
        if outcome.menu_changed and self._on_plugins_changed is not None:
            await self._on_plugins_changed(chat_id)
        return outcome

    async def apply(
        self,
        chat_id: int,
        user_id: int | None,
        args: tuple[str, ...],
        message: Message | None = None,
    ) -> Outcome:
        """Carry out ``/settings ARGS`` for an admin; raises SettingError for bad input."""
        if len(args) > MAX_ARGS:
            raise SettingError(f"Too many words ({len(args)}); at most {MAX_ARGS}.")
        if not args:
            return Outcome(await self.listing(chat_id))
        key, rest = args[0].lower(), " ".join(args[1:]).strip()
        store = self.service.store
        if key in HOST_KEYS:
            if not rest:
                raise SettingError(f"{key}: a value is missing.")
            if rest.lower() in _RESET:
                await self._write(store.unset, chat_id, key)
                return Outcome(f"{key} is back to its default.", changed=True)
            value = parse_host_value(key, rest)
            await self._write(functools.partial(store.set_value, chat_id, key, value, by=user_id))
            return Outcome(f"{key} is now {value} in this chat.", changed=True)
        if key in ("exclude", "include"):
            target = await self._member(chat_id, rest, message)
            if key == "exclude":
                await self._write(functools.partial(store.exclude, chat_id, target, by=user_id))
                return Outcome(
                    f"Member {target} is now left out of this chat's statistics.", changed=True
                )
            found = await self._write(store.include, chat_id, target)
            text = f"Member {target} counts again." if found else f"{target} was not excluded."
            return Outcome(text, changed=bool(found))
        if key in ("enable", "disable"):
            record = self._plugin(rest)
            if key == "disable":
                value = False
                await self._write(
                    functools.partial(
                        store.set_value, chat_id, plugin_key(record.name), value, by=user_id
                    )
                )
            else:
                await self._write(store.unset, chat_id, plugin_key(record.name))
            state = "off" if key == "disable" else "on"
            return Outcome(
                f"{record.name} is now {state} in this chat.", changed=True, menu_changed=True
            )
        if "." in key:
            return await self._option(chat_id, user_id, args[0], rest)
        raise SettingError(f"Unknown setting {args[0][:40]!r}.")

    async def _option(self, chat_id: int, user_id: int | None, name: str, rest: str) -> Outcome:
        plugin_name, _, option = name.partition(".")
        record = self._plugin(plugin_name)
        if not rest:
            raise SettingError(f"{record.name}.{option[:40]}: a value is missing.")
        store = self.service.store
        key = option_key(record.name, option)
        if rest.lower() in _RESET:
            if option not in (record.plugin_cls.chat_options if record.plugin_cls else ()):
                raise SettingError(f"{record.name} has no per-chat option {option[:40]!r}.")
            await self._write(store.unset, chat_id, key)
            return Outcome(f"{record.name}.{option} is back to its default.", changed=True)
        assert record.instance is not None
        raw = parse_option_text(record, record.instance.config, option, rest)
        await self._write(functools.partial(store.set_value, chat_id, key, raw, by=user_id))
        return Outcome(f"{record.name}.{option} is now {rest} in this chat.", changed=True)

    def _plugin(self, name: str) -> PluginRecord:
        loaded = {r.name: r for r in self.plugins() if r.instance is not None}
        record = loaded.get(name.strip())
        if record is None:
            known = ", ".join(sorted(loaded)) or "none"
            raise SettingError(f"No plugin {name[:40]!r} is running here (plugins: {known}).")
        return record

    async def _member(self, chat_id: int, text: str, message: Message | None) -> int:
        """A member by @username, numeric id, or the sender of the message replied to."""
        if not text and message is not None and message.reply_to_message is not None:
            sender = message.reply_to_message.from_user
            if sender is not None:
                if sender.is_bot:
                    raise SettingError("Bots are always left out of the statistics.")
                return sender.id
        if _USER_ID.fullmatch(text) and abs(int(text)) < 2**63:
            return int(text)
        if not _USERNAME.fullmatch(text):
            raise SettingError(
                "Name a member as @username or by id, or reply to one of their messages."
            )
        found = await asyncio.to_thread(self._queries.find_user, chat_id, text)
        if found is None:
            raise SettingError(f"I have no messages from @{text.lstrip('@')} in this chat.")
        return found.user_id

    async def listing(self, chat_id: int) -> str:
        lines = await asyncio.to_thread(self.service.describe, chat_id, self.plugins())
        body = [f"{line.key}: {line.value} ({line.origin})" for line in lines]
        text = "\n".join(["Settings of this chat:", *body, "", usage()])
        # Telegram refuses a message over 4,096 characters (many plugins, many options).
        return text if len(text) <= MAX_REPLY else text[: MAX_REPLY - 1] + "…"
