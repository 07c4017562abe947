"""Layering of per-chat settings: code default < plugin.yaml < plugins.yaml < the chat,
checked like the config files, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tgstats.config import load_host_config
from tgstats.host.chat_settings import (
    ChatSettingsService,
    SettingError,
    option_key,
    parse_host_value,
    parse_option_text,
    plugin_key,
)
from tgstats.host.discovery import discover_plugins
from tgstats.host.loading import inspect_plugins
from tgstats.host.records import PluginRecord
from tgstats.plugins import ChatSettings

from ..fake_dists import MakeDist

CHAT = -1001

PLUGIN = """\
from __future__ import annotations

import attrs

from tgstats.plugins import Plugin, TextReply, check_days, check_zone, command


def _small(_inst, attribute, value):
    if not 1 <= value <= 20:
        raise ValueError(f"{attribute.name}: expected 1..20, got {value}")


@attrs.frozen
class Config:
    days: int = attrs.field(default=30, validator=check_days)
    timezone: str = attrs.field(default="UTC", validator=check_zone)
    top: int = attrs.field(default=5, validator=_small)
    title: str = "code"
    shout: bool = False
    secret: str = "not per chat"


class LayerPlugin(Plugin[Config]):
    Config = Config
    chat_options = ("top", "title", "shout")

    @command("layer", "layers")
    def layer(self, ctx):
        return TextReply(str(self.chat_config(ctx)))
"""


@pytest.fixture
def record(
    make_dist: MakeDist, write_config: Callable[[str], Path], unique_name: Callable[[str], str]
) -> PluginRecord:
    package = unique_name("fakeplug_layers")
    make_dist(
        package.replace("_", "-"),
        entry_points={"layers": f"{package}.plugin:LayerPlugin"},
        files={
            f"{package}/__init__.py": "",
            f"{package}/plugin.py": PLUGIN,
            f"{package}/plugin.yaml": "title: from plugin.yaml\ntop: 7\n",
        },
    )
    config = load_host_config(
        write_config(
            """\
            plugins:
              layers:
                config:
                  top: 9
                  timezone: Europe/Berlin
            """
        )
    )
    records = {r.name: r for r in inspect_plugins(config, discover_plugins())}
    assert records["layers"].state == "loaded", records["layers"].reason
    return records["layers"]


def test_each_layer_overrides_the_one_below(store, record: PluginRecord) -> None:
    service = ChatSettingsService(store.settings, {"layers": record}.get)
    base = service.effective(CHAT, "layers").config
    # code default (shout), plugin.yaml (title), plugins.yaml (top over plugin.yaml's 7)
    assert (base.shout, base.title, base.top) == (False, "from plugin.yaml", 9)
    store.settings.set_value(CHAT, option_key("layers", "top"), 3, by=1)
    store.settings.set_value(CHAT, option_key("layers", "shout"), True, by=1)
    chat = service.effective(CHAT, "layers").config
    assert (chat.shout, chat.title, chat.top) == (True, "from plugin.yaml", 3)
    assert service.effective(-1002, "layers").config.top == 9  # other chats keep the operator's
    lines = {line.key: line for line in service.describe(CHAT, [record])}
    assert lines["layers.top"].value == "3"
    assert (
        lines["layers.top"].origin.startswith("chat setting (")
        and "by 1" in lines["layers.top"].origin
    )
    assert lines["layers.title"].origin.startswith("plugin.yaml (")
    assert lines["layers.shout"].value == "true"
    assert lines["layers.timezone"].value == "Europe/Berlin"
    assert lines["layers.timezone"].origin.startswith("plugins.yaml (")
    assert lines["layers.days"].origin == "code default"
    # For a Russian-speaking admin: the origins' words translated, files and values as they are.
    ru = {line.key: line for line in service.describe(CHAT, [record], "ru")}
    assert ru["layers.days"].origin == "значение в коде плагина"
    assert ru["layers.top"].origin.startswith("настройка чата (") and "изменил 1)" in (
        ru["layers.top"].origin
    )
    assert ru["layers.title"].origin == lines["layers.title"].origin  # plugin.yaml (file:line)
    assert ru["timezone"].origin == "не задано: у каждого плагина своё значение"
    assert (ru["layers"].value, ru["layers"].origin) == ("on", "по умолчанию")
    assert [line.value for line in ru.values()] == [line.value for line in lines.values()]


def test_host_settings_reach_the_context(store, record: PluginRecord) -> None:
    service = ChatSettingsService(store.settings, {"layers": record}.get)
    assert service.effective(CHAT, "layers").has_default_period is False
    store.settings.set_value(CHAT, "timezone", "Asia/Tokyo", by=1)
    store.settings.set_value(CHAT, "period", 7, by=1)
    store.settings.set_value(CHAT, "language", "ru", by=1)
    settings = service.effective(CHAT, "layers")
    assert settings.timezone == ZoneInfo("Asia/Tokyo")
    assert settings.zone(ZoneInfo("Europe/Berlin")) == ZoneInfo("Asia/Tokyo")
    assert settings.days(30) == 7 and settings.language == "ru"
    assert service.zone(CHAT) == ZoneInfo("Asia/Tokyo")
    store.settings.set_value(CHAT, "period", "all", by=1)
    assert service.effective(CHAT, "layers").days(30) is None
    lines = {line.key: line for line in service.describe(CHAT, [record])}
    assert lines["layers.timezone"].value == "Asia/Tokyo"  # the chat beats plugins.yaml
    assert lines["layers.timezone"].origin.startswith("chat setting")
    assert lines["layers.days"].value == "all"
    # Without a chat setting the plugin's own option decides.
    assert ChatSettings().zone(ZoneInfo("UTC")) == ZoneInfo("UTC")
    assert ChatSettings().days(30) == 30


def test_plugin_switch_is_per_chat(store, record: PluginRecord) -> None:
    service = ChatSettingsService(store.settings, {"layers": record}.get)
    assert service.is_enabled(CHAT, "layers")
    store.settings.set_value(CHAT, plugin_key("layers"), False, by=1)
    assert not service.is_enabled(CHAT, "layers")
    assert service.is_enabled(-1002, "layers")
    assert service.disabled_plugins(CHAT) == {"layers"}
    lines = {line.key: line for line in service.describe(CHAT, [record])}
    assert lines["layers"].value == "off" and lines["layers"].origin.startswith("chat setting")


@pytest.mark.parametrize(
    ("option", "text", "message"),
    [
        ("top", "50", "expected a valid value (top: expected 1..20, got 50)"),
        ("top", "many", "expected an integer, found 'many'"),
        ("shout", "1", "expected true or false"),
        ("secret", "x", "has no per-chat option 'secret'"),
        ("nope", "x", "has no per-chat option 'nope'"),
        ("title", "&a x", "anchors and aliases"),
        ("title", "[" * 100, "nested deeper"),
        ("title", "x" * 300, "at most 256 characters"),
        ("title", "2026-01-01", "expected a plain value"),
    ],
)
def test_hostile_or_wrong_option_values_are_refused(
    record: PluginRecord, option: str, text: str, message: str
) -> None:
    base = record.config.value if record.config else None
    with pytest.raises(SettingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_option_text(record, base, option, text)


def test_option_values_are_typed_like_the_config_files(record: PluginRecord) -> None:
    base = record.config.value if record.config else None
    assert parse_option_text(record, base, "top", "12") == 12
    assert parse_option_text(record, base, "shout", "true") is True
    assert parse_option_text(record, base, "title", "Weekly stats") == "Weekly stats"


def test_an_invalid_stored_option_is_ignored_not_fatal(store, record: PluginRecord) -> None:
    # The plugin tightened its rules after the admin set a value: its rules win.
    store.settings.set_value(CHAT, option_key("layers", "top"), 99, by=1)
    store.settings.set_value(CHAT, "timezone", "Mars/Olympus", by=1)
    service = ChatSettingsService(store.settings, {"layers": record}.get)
    settings = service.effective(CHAT, "layers")
    assert settings.config.top == 9 and settings.timezone is None


@pytest.mark.parametrize(
    ("key", "text", "value"),
    [
        ("timezone", "Asia/Tokyo", "Asia/Tokyo"),
        ("language", "PT_br", "pt-br"),
        ("period", "7", 7),
        ("period", "30 days", 30),
        ("period", "ALL", "all"),
    ],
)
def test_host_values(key: str, text: str, value: object) -> None:
    assert parse_host_value(key, text) == value


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("timezone", "Mars/Olympus"),
        ("timezone", "../../etc/passwd"),
        ("timezone", "x" * 10_000),
        ("language", "english please"),
        ("period", "0"),
        ("period", "99999999999"),
        ("period", "-3"),
        ("colour", "red"),
    ],
)
def test_bad_host_values_are_refused(key: str, text: str) -> None:
    with pytest.raises(SettingError):
        parse_host_value(key, text)


async def test_the_loop_side_questions_for_schedules(store, record: PluginRecord) -> None:
    service = ChatSettingsService(store.settings, {"layers": record}.get)
    assert await service.chat_zone(CHAT) is None
    assert await service.plugin_enabled(CHAT, "layers") is True
    store.settings.set_value(CHAT, "timezone", "America/New_York", by=1)
    store.settings.set_value(CHAT, plugin_key("layers"), False, by=1)
    assert await service.chat_zone(CHAT) == ZoneInfo("America/New_York")
    assert await service.plugin_enabled(CHAT, "layers") is False
    assert await service.plugin_enabled(-1002, "layers") is True
    assert (await service.settings_for(CHAT, "layers")).timezone == ZoneInfo("America/New_York")
