"""Per-chat settings: what may be set, checking a value, and the layered result.

Layers, lowest first: the plugin's code default < its ``plugin.yaml`` < the
operator's ``plugins.yaml`` < the chat's own setting (``/settings``).  The
first three are the plugin's resolved config (:mod:`tgstats.config`); this
module adds the fourth, checking every value with the same machinery (YAML
typing, the Config's attrs validators) when it is set and again when it is
read, since the plugin may have changed in between.

Keys in the store (:mod:`tgstats.store.chat_settings`):

- ``timezone`` (IANA name), ``language`` (a language code), ``period``
  (days, or ``"all"``): the host-wide ones, which every plugin receives;
- ``plugin:NAME``: false when the chat switched plugin NAME off;
- ``option:NAME.OPTION``: one of the plugin's declared ``chat_options``.

:class:`ChatSettingsService` is what the rest of the bot calls:
``effective(chat_id, plugin)`` for a handler's ``ctx.settings``,
``is_enabled`` for the router and the menu, ``zone`` for schedules; on the
event loop ``await settings_for / plugin_enabled / chat_zone`` (the bot's
instance is ``BotRuntime.chat_settings``).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from tgstats.config import Origin
from tgstats.errors import ConfigError, TgstatsError
from tgstats.host.records import PluginRecord
from tgstats.logs import get_logger
from tgstats.plugins import MAX_DAYS, ChatSettings, parse_zone
from tgstats.plugins._i18n import DEFAULT_LANGUAGE, N_, translate
from tgstats.store.chat_settings import ChatSettingsStore, StoredSettings
from tgstats.yamlconfig import (
    Where,
    convert_field,
    describe_value,
    read_yaml_value,
    resolved_fields,
)

__all__ = [
    "HOST_KEYS",
    "ChatSettingsService",
    "SettingError",
    "SettingLine",
    "option_key",
    "parse_host_value",
    "plugin_key",
]

log = get_logger(__name__)

HOST_KEYS = ("timezone", "language", "period")
# BCP 47 as Telegram reports language_code: "en", "pt-br", "zh-hans".
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8}){0,2}")
_PERIOD = re.compile(r"(\d{1,6})\s*(d|day|days)?")
MAX_VALUE_CHARS = 256


class SettingError(TgstatsError):
    """A setting or value that cannot be used; :meth:`text` is the answer for the admin.

    ``template`` is an English text from the host catalog (marked with ``N_``)
    with ``{field}`` placeholders filled from ``params``, so the admin's reply
    can be translated (``str()`` is the English one, for logs and the CLI).
    """

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**params) if params else template)

    def text(self, language: str) -> str:
        """The message in ``language`` (the host catalog; English if untranslated)."""
        translated = translate(language, self.template)
        return translated.format(**self.params) if self.params else translated


@attrs.frozen
class SettingLine:
    """One row of ``/settings`` and ``tgstats chats show``: a value and where it comes from."""

    key: str
    value: str
    origin: str


def plugin_key(plugin: str) -> str:
    return f"plugin:{plugin}"


def option_key(plugin: str, option: str) -> str:
    return f"option:{plugin}.{option}"


def parse_host_value(key: str, text: str) -> Any:
    """The stored form of a host-wide setting typed by an admin; SettingError if invalid."""
    text = text.strip()
    if len(text) > MAX_VALUE_CHARS:
        raise SettingError(
            N_("{key}: expected at most {limit} characters"), key=key, limit=MAX_VALUE_CHARS
        )
    if key == "timezone":
        try:
            return parse_zone(text, key="timezone").key
        except ValueError:
            raise SettingError(
                N_(
                    "timezone: unknown IANA time zone {zone!r} "
                    "(expected a name like 'Europe/Berlin' or 'UTC')"
                ),
                zone=text[:40],
            ) from None
    if key == "language":
        code = text.lower().replace("_", "-")
        if not _LANGUAGE.fullmatch(code):
            raise SettingError(
                N_("language: expected a language code like 'en', 'ru' or 'pt-br', got {value!r}"),
                value=text[:40],
            )
        return code
    if key == "period":
        if text.lower() == "all":
            return "all"
        match = _PERIOD.fullmatch(text.lower())
        days = int(match.group(1)) if match else 0
        if not 1 <= days <= MAX_DAYS:
            raise SettingError(
                N_("period: expected 1-{limit} days or 'all', got {value!r}"),
                limit=MAX_DAYS,
                value=text[:40],
            )
        return days
    raise SettingError(N_("unknown setting {key!r}"), key=key)


def _host_values(stored: StoredSettings) -> dict[str, Any]:
    """The stored host-wide values that are still valid (a bad one is logged and ignored)."""
    out: dict[str, Any] = {}
    for key in HOST_KEYS:
        item = stored.values.get(key)
        if item is None:
            continue
        try:
            out[key] = parse_host_value(key, str(item.value))
        except SettingError as error:
            log.warning("chat_setting_ignored", chat_id=stored.chat_id, key=key, error=str(error))
    return out


def _option_field(record: PluginRecord, option: str) -> Any:
    plugin_cls = record.plugin_cls
    assert plugin_cls is not None
    if option not in plugin_cls.chat_options:
        offered = ", ".join(plugin_cls.chat_options) or "none"
        raise SettingError(
            N_("{plugin} has no per-chat option {option!r} (it offers: {offered})"),
            plugin=record.name,
            option=option[:40],
            offered=offered,
        )
    for field in resolved_fields(plugin_cls.Config):
        if field.name == option and field.init:
            return field
    raise SettingError(
        N_("{plugin}.{option} is not one of its Config fields"), plugin=record.name, option=option
    )


def check_option(record: PluginRecord, base: Any, option: str, raw: Any) -> Any:
    """``base`` (a Config instance) with ``option`` set to the plain value ``raw``:
    typed like the config files and checked by the Config's own validators."""
    field = _option_field(record, option)
    key = f"{record.name}.{option}"
    try:
        value = convert_field(field, raw, _where(key))
        return attrs.evolve(base, **{field.name: value})
    except ConfigError as error:
        # The config machinery's own words (English): the same text as in a config file.
        raise SettingError("{key}: {detail}", key=key, detail=error.message) from None
    except (ValueError, TypeError) as error:
        # Worded like a validator's error in a config file.
        raise SettingError(
            N_("{key}: expected a valid value ({error}), found {found}"),
            key=key,
            error=str(error),
            found=describe_value(raw),
        ) from None


def parse_option_text(record: PluginRecord, base: Any, option: str, text: str) -> Any:
    """The plain (JSON-able) value of ``option`` typed as ``text``; SettingError if invalid."""
    key = f"{record.name}.{option}"
    try:
        raw = read_yaml_value(text, key=key, limit=MAX_VALUE_CHARS)
    except ConfigError as error:
        raise SettingError("{key}: {detail}", key=key, detail=error.message) from None
    try:
        json.dumps(raw)
    except (TypeError, ValueError):
        raise SettingError(
            N_("{key}: expected a plain value, found {kind}"), key=key, kind=type(raw).__name__
        ) from None
    check_option(record, base, option, raw)
    return raw


def _where(key: str) -> Where:
    return Where(None, None, key)


def _when(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


class ChatSettingsService:
    """The layered settings of every chat, over the store and the loaded plugins."""

    def __init__(
        self, store: ChatSettingsStore, plugins: Callable[[str], PluginRecord | None]
    ) -> None:
        self.store = store
        self._plugins = plugins

    # -- reading ---------------------------------------------------------------

    async def load(self, chat_id: int) -> StoredSettings:
        """The stored settings: the fresh cached copy, or read off the event loop."""
        cached = self.store.cached(chat_id)
        if cached is not None:
            return cached
        return await asyncio.to_thread(self.store.load, chat_id)

    def effective(
        self, chat_id: int, plugin: str | None, stored: StoredSettings | None = None
    ) -> ChatSettings:
        """What ``plugin``'s handlers get as ``ctx.settings`` in ``chat_id``."""
        stored = stored if stored is not None else self.store.load(chat_id)
        host = _host_values(stored)
        period = host.get("period")
        extra: dict[str, Any] = {}
        if period is not None:
            extra["default_days"] = None if period == "all" else int(period)
        zone = host.get("timezone")
        config = None
        record = self._plugins(plugin) if plugin is not None else None
        if record is not None:
            config = self._plugin_config(record, stored)
        return ChatSettings(
            chat_id=chat_id,
            timezone=ZoneInfo(zone) if zone else None,
            language=host.get("language"),
            config=config,
            excluded_user_ids=stored.excluded,
            **extra,
        )

    def _plugin_config(self, record: PluginRecord, stored: StoredSettings) -> Any:
        # The running instance's config; the CLI inspects without running (config only).
        if record.instance is not None:
            base = record.instance.config
        else:
            base = record.config.value if record.config is not None else None
        if base is None or record.plugin_cls is None:
            return base
        prefix = option_key(record.name, "")
        for key, item in stored.values.items():
            if not key.startswith(prefix):
                continue
            option = key[len(prefix) :]
            try:
                base = check_option(record, base, option, item.value)
            except SettingError as error:
                # The plugin changed since the admin set it: its current rules win.
                log.warning(
                    "chat_setting_ignored", chat_id=stored.chat_id, key=key, error=str(error)
                )
        return base

    def is_enabled(self, chat_id: int, plugin: str, stored: StoredSettings | None = None) -> bool:
        stored = stored if stored is not None else self.store.load(chat_id)
        item = stored.values.get(plugin_key(plugin))
        return item is None or item.value is not False

    def disabled_plugins(self, chat_id: int) -> set[str]:
        stored = self.store.load(chat_id)
        prefix = plugin_key("")
        return {
            key[len(prefix) :]
            for key, item in stored.values.items()
            if key.startswith(prefix) and item.value is False
        }

    def zone(self, chat_id: int) -> ZoneInfo | None:
        """The chat's time zone if its admins set one (schedules run in it)."""
        zone = _host_values(self.store.load(chat_id)).get("timezone")
        return ZoneInfo(zone) if zone else None

    # The same questions from the event loop (schedules, event listeners): the
    # database is only touched in a thread, when the cached copy is stale.

    async def chat_zone(self, chat_id: int) -> ZoneInfo | None:
        """:meth:`zone`, safe to await on the event loop."""
        zone = _host_values(await self.load(chat_id)).get("timezone")
        return ZoneInfo(zone) if zone else None

    async def plugin_enabled(self, chat_id: int, plugin: str) -> bool:
        """:meth:`is_enabled`, safe to await on the event loop."""
        return self.is_enabled(chat_id, plugin, await self.load(chat_id))

    async def settings_for(self, chat_id: int, plugin: str | None) -> ChatSettings:
        """:meth:`effective` (what a handler gets as ``ctx.settings``), safe on the loop."""
        return self.effective(chat_id, plugin, await self.load(chat_id))

    # -- describing ------------------------------------------------------------

    def describe(
        self, chat_id: int, plugins: list[PluginRecord], language: str = DEFAULT_LANGUAGE
    ) -> list[SettingLine]:
        """Every setting of the chat with its effective value and where it comes from.

        The origins are worded in ``language`` (the admin's, for ``/settings``);
        keys, values and the config files' own origins stay as they are.
        """
        stored = self.store.load(chat_id)
        host = _host_values(stored)

        def say(text: str, **params: Any) -> str:
            return translate(language, text).format(**params)

        def chat_origin(key: str) -> str:
            item = stored.values[key]
            when = _when(item.updated_at)
            if item.updated_by is None:
                return say(N_("chat setting ({when})"), when=when)
            return say(N_("chat setting ({when} by {user})"), when=when, user=item.updated_by)

        def config_origin(origin: Origin | None) -> str:
            # File origins name their file; only the code default has words to translate.
            if origin is None or (origin.path is None and origin.kind == "code default"):
                return say(N_("code default"))
            return str(origin)

        lines: list[SettingLine] = []
        for key in HOST_KEYS:
            if key in host:
                lines.append(SettingLine(key, str(host[key]), chat_origin(key)))
            else:
                lines.append(SettingLine(key, "-", say(N_("not set: each plugin's own option"))))
        excluded = ", ".join(str(uid) for uid in sorted(stored.excluded)) or "none"
        origin = say(N_("chat setting; bots are always excluded"))
        lines.append(SettingLine("excluded", excluded, origin))
        for record in sorted(plugins, key=lambda r: r.name):
            key = plugin_key(record.name)
            if not record.enabled:
                origin = say(N_("plugins.yaml (for every chat)"))
                lines.append(SettingLine(record.name, "off", origin))
                continue
            if record.state != "loaded" or record.plugin_cls is None:
                origin = say(N_("not loaded: {state}"), state=record.state)
                lines.append(SettingLine(record.name, "off", origin))
                continue
            on = self.is_enabled(chat_id, record.name, stored)
            origin = chat_origin(key) if key in stored.values else say(N_("default"))
            lines.append(SettingLine(record.name, "on" if on else "off", origin))
            lines += self._describe_plugin(record, stored, host, chat_origin, config_origin)
        return lines

    def _describe_plugin(
        self,
        record: PluginRecord,
        stored: StoredSettings,
        host: Mapping[str, Any],
        chat_origin: Callable[[str], str],
        config_origin: Callable[[Origin | None], str],
    ) -> list[SettingLine]:
        lines = []
        config = self._plugin_config(record, stored)
        origins = record.config.origins if record.config is not None else {}
        names = [f.name for f in resolved_fields(type(config))] if config is not None else []
        # The plugin's own time zone and period options, overridden by the chat's.
        for name, host_key in (("timezone", "timezone"), ("days", "period")):
            if name not in names:
                continue
            if host_key in host:
                value, origin = str(host[host_key]), chat_origin(host_key)
            elif name == "timezone" and str(stored.chat_id) in getattr(
                config, "chat_timezones", {}
            ):
                leaf = f"chat_timezones.{stored.chat_id}"
                value = str(config.chat_timezones[str(stored.chat_id)])
                origin = config_origin(origins.get(leaf))
            else:
                value, origin = str(getattr(config, name)), config_origin(origins.get(name))
            lines.append(SettingLine(f"{record.name}.{name}", value, origin))
        plugin_cls = record.plugin_cls
        for option in plugin_cls.chat_options if plugin_cls is not None else ():
            key = option_key(record.name, option)
            current = getattr(config, option, None)
            if key in stored.values and stored.values[key].value == _plain(current):
                origin = chat_origin(key)
            else:
                origin = config_origin(origins.get(option))
            lines.append(SettingLine(f"{record.name}.{option}", _show(current), origin))
        return lines


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(_plain(value))
