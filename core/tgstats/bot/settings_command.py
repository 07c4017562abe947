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

Replies follow the bot's language rule (:func:`tgstats.bot.language.language_for`):
the chat's ``language`` setting, else the admin's Telegram language, else
English; it is decided after a change, so ``/settings language ru`` is already
confirmed in Russian.  Keys, plugin names, options and values stay as typed.

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
from tgstats.bot.language import language_for
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
from tgstats.plugins._i18n import DEFAULT_LANGUAGE, N_, resolve_language, translate
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


USAGE = N_(
    "Usage: /settings [timezone ZONE | language CODE | period N|all | "
    "exclude @user | include @user | disable PLUGIN | enable PLUGIN | "
    "PLUGIN.OPTION VALUE]; KEY default goes back to the default."
)
REFUSED = N_("Sorry, /settings is for this chat's administrators only.")


def usage(language: str = DEFAULT_LANGUAGE) -> str:
    return translate(language, USAGE)


def _say(language: str, text: str, **params: Any) -> str:
    """A host text in ``language`` with its ``{fields}`` filled in."""
    return translate(language, text).format(**params)


def error_reply(error: SettingError, language: str) -> str:
    """The admin's answer to bad input: what was wrong, then the usage line."""
    return f"{error.text(language)}\n{usage(language)}"


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
        user_language = user.language_code if user is not None else None
        if not await self._admins.is_admin(chat.id, user_id, private=private):
            log.warning("settings_refused", chat_id=chat.id, user_id=user_id)
            language = language_for(update, await self.chat_language(chat.id))
            await message.reply_text(translate(language, REFUSED))
            return
        args = tuple(context.args or ())
        if not args and self.menu is not None and self.markup is not None:
            language = language_for(update, await self.chat_language(chat.id))
            view = await self.menu.view(chat.id, language=language)
            await message.reply_text(view.text, reply_markup=self.markup(view.buttons, chat.id))
            return
        try:
            outcome = await self.apply_and_sync(
                chat.id, user_id, args, message, user_language=user_language
            )
        except SettingError as error:
            language = language_for(update, await self.chat_language(chat.id))
            outcome = Outcome(error_reply(error, language))
        await message.reply_text(outcome.text)

    async def chat_language(self, chat_id: int) -> str | None:
        """The chat's own ``language`` setting (None: not set, or unreadable)."""
        try:
            stored = await self.service.load(chat_id)
            return self.service.effective(chat_id, None, stored).language
        except Exception as error:  # a reply in English beats no reply at all
            log.warning("chat_settings_unavailable", chat_id=chat_id, error=str(error)[:200])
            return None

    async def language(self, chat_id: int, user_language: str | None) -> str:
        """The reply language now (``language_for``'s rule, from the member's code)."""
        return resolve_language(await self.chat_language(chat_id), user_language)

    async def apply_and_sync(
        self,
        chat_id: int,
        user_id: int | None,
        args: tuple[str, ...],
        message: Message | None = None,
        *,
        user_language: str | None = None,
    ) -> Outcome:
        """:meth:`apply`, then the chat's command menu if a plugin was switched."""
        outcome = await self.apply(chat_id, user_id, args, message, user_language=user_language)
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
        *,
        user_language: str | None = None,
    ) -> Outcome:
        """Carry out ``/settings ARGS`` for an admin; raises SettingError for bad input.

        ``user_language`` is the admin's Telegram ``language_code``; the reply's
        language is chosen after the change (a new ``language`` answers in itself).
        """
        if not args:
            return Outcome(await self.listing(chat_id, await self.language(chat_id, user_language)))
        text, params, changed, menu_changed = await self._carry_out(chat_id, user_id, args, message)
        language = await self.language(chat_id, user_language)
        return Outcome(_say(language, text, **params), changed, menu_changed)

    async def _carry_out(
        self,
        chat_id: int,
        user_id: int | None,
        args: tuple[str, ...],
        message: Message | None,
    ) -> tuple[str, dict[str, Any], bool, bool]:
        """The change itself; the reply as (English template, its fields, changed, menu)."""
        if len(args) > MAX_ARGS:
            raise SettingError(
                N_("Too many words: {count} (at most {limit})."), count=len(args), limit=MAX_ARGS
            )
        key, rest = args[0].lower(), " ".join(args[1:]).strip()
        store = self.service.store
        if key in HOST_KEYS:
            if not rest:
                raise SettingError(N_("{key}: a value is missing."), key=key)
            if rest.lower() in _RESET:
                await self._write(store.unset, chat_id, key)
                return N_("{key} is back to its default."), {"key": key}, True, False
            value = parse_host_value(key, rest)
            await self._write(functools.partial(store.set_value, chat_id, key, value, by=user_id))
            return (
                N_("{key} is now {value} in this chat."),
                {"key": key, "value": value},
                True,
                False,
            )
        if key in ("exclude", "include"):
            target = await self._member(chat_id, rest, message)
            if key == "exclude":
                await self._write(functools.partial(store.exclude, chat_id, target, by=user_id))
                text = N_("Member {user} is now left out of this chat's statistics.")
                return text, {"user": target}, True, False
            found = await self._write(store.include, chat_id, target)
            text = N_("Member {user} counts again.") if found else N_("{user} was not excluded.")
            return text, {"user": target}, bool(found), False
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
            text = N_("{plugin} is now off in this chat.")
            if key == "enable":
                text = N_("{plugin} is now on in this chat.")
            return text, {"plugin": record.name}, True, True
        if "." in key:
            return await self._option(chat_id, user_id, args[0], rest)
        raise SettingError(N_("Unknown setting {key!r}."), key=args[0][:40])

    async def _option(
        self, chat_id: int, user_id: int | None, name: str, rest: str
    ) -> tuple[str, dict[str, Any], bool, bool]:
        plugin_name, _sep, option = name.partition(".")
        record = self._plugin(plugin_name)
        if not rest:
            raise SettingError(N_("{key}: a value is missing."), key=f"{record.name}.{option[:40]}")
        store = self.service.store
        key = option_key(record.name, option)
        if rest.lower() in _RESET:
            if option not in (record.plugin_cls.chat_options if record.plugin_cls else ()):
                raise SettingError(
                    N_("{plugin} has no per-chat option {option!r}."),
                    plugin=record.name,
                    option=option[:40],
                )
            await self._write(store.unset, chat_id, key)
            return (
                N_("{key} is back to its default."),
                {"key": f"{record.name}.{option}"},
                True,
                False,
            )
        assert record.instance is not None
        raw = parse_option_text(record, record.instance.config, option, rest)
        await self._write(functools.partial(store.set_value, chat_id, key, raw, by=user_id))
        params = {"key": f"{record.name}.{option}", "value": rest}
        return N_("{key} is now {value} in this chat."), params, True, False

    def _plugin(self, name: str) -> PluginRecord:
        loaded = {r.name: r for r in self.plugins() if r.instance is not None}
        record = loaded.get(name.strip())
        if record is None:
            known = ", ".join(sorted(loaded)) or "-"
            raise SettingError(
                N_("No plugin {name!r} is running here (plugins: {known})."),
                name=name[:40],
                known=known,
            )
        return record

    async def _member(self, chat_id: int, text: str, message: Message | None) -> int:
        """A member by @username, numeric id, or the sender of the message replied to."""
        if not text and message is not None and message.reply_to_message is not None:
            sender = message.reply_to_message.from_user
            if sender is not None:
                if sender.is_bot:
                    raise SettingError(N_("Bots are always left out of the statistics."))
                return sender.id
        if _USER_ID.fullmatch(text) and abs(int(text)) < 2**63:
            return int(text)
        if not _USERNAME.fullmatch(text):
            raise SettingError(
                N_("Name a member as @username or by id, or reply to one of their messages.")
            )
        found = await asyncio.to_thread(self._queries.find_user, chat_id, text)
        if found is None:
            raise SettingError(
                N_("I have no messages from @{name} in this chat."), name=text.lstrip("@")
            )
        return found.user_id

    async def listing(self, chat_id: int, language: str = DEFAULT_LANGUAGE) -> str:
        lines = await asyncio.to_thread(self.service.describe, chat_id, self.plugins(), language)
        body = [f"{line.key}: {line.value} ({line.origin})" for line in lines]
        title = translate(language, N_("Settings of this chat:"))
        text = "\n".join([title, *body, "", usage(language)])
        # Telegram refuses a message over 4,096 characters (many plugins, many options).
        return text if len(text) <= MAX_REPLY else text[: MAX_REPLY - 1] + "…"
