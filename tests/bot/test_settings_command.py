"""/settings text form: what an admin's words do, and hostile words refused, on a real store."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from tgstats.bot.chat_admins import ChatAdmins
from tgstats.bot.settings_command import MAX_ARGS, SettingsCommand
from tgstats.config import default_config_path, load_host_config
from tgstats.host.chat_settings import ChatSettingsService, SettingError
from tgstats.host.discovery import discover_plugins
from tgstats.host.loading import inspect_plugins
from tgstats.host.services import Host
from tgstats.testing import fill_store, make_chat, make_message, make_user

CHAT = -100700


@pytest.fixture
def command(store: Any) -> SettingsCommand:
    records = []
    for record in inspect_plugins(load_host_config(default_config_path()), discover_plugins()):
        if record.name in ("heatmap_command", "engagement_scores") and record.plugin_cls:
            instance = record.plugin_cls(record.config.value, Host(record.name, store.queries))
            records.append(attrs.evolve(record, instance=instance))
    by_name = {r.name: r for r in records}
    service = ChatSettingsService(store.settings, by_name.get)
    return SettingsCommand(
        service=service,
        admins=ChatAdmins(None, frozenset()),  # type: ignore[arg-type]  # apply() does not ask
        queries=store.queries,
        plugins=lambda: records,
    )


def stored(store: Any) -> dict[str, object]:
    return {k: v.value for k, v in store.settings.load(CHAT).values.items()}


async def test_each_setting_is_stored_as_checked(command: SettingsCommand, store: Any) -> None:
    fill_store(store, [make_message(make_chat(CHAT), make_user(5, "Eve", username="eve"), "hi")])
    await command.apply(CHAT, 1, ("timezone", "Asia/Tokyo"))
    await command.apply(CHAT, 1, ("period", "30", "days"))
    await command.apply(CHAT, 1, ("language", "RU"))
    await command.apply(CHAT, 1, ("heatmap_command.colormap", "Blues"))
    await command.apply(CHAT, 1, ("engagement_scores.include_channels", "true"))
    outcome = await command.apply(CHAT, 1, ("disable", "heatmap_command"))
    assert outcome.menu_changed
    await command.apply(CHAT, 1, ("exclude", "@EVE"))
    assert stored(store) == {
        "timezone": "Asia/Tokyo",
        "period": 30,
        "language": "ru",
        "option:heatmap_command.colormap": "Blues",
        "option:engagement_scores.include_channels": True,
        "plugin:heatmap_command": False,
    }
    assert store.settings.load(CHAT).excluded == frozenset({5})
    await command.apply(CHAT, 1, ("timezone", "default"))
    await command.apply(CHAT, 1, ("heatmap_command.colormap", "reset"))
    await command.apply(CHAT, 1, ("enable", "heatmap_command"))
    assert "timezone" not in stored(store) and "plugin:heatmap_command" not in stored(store)
    listing = (await command.apply(CHAT, 1, ())).text
    assert "period: 30 (chat setting" in listing
    assert "heatmap_command.colormap: YlOrRd (plugin.yaml" in listing


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("timezone",), "a value is missing"),
        (("timezone", "Europe/Nowhere"), "unknown IANA time zone"),
        (("period", "0"), "expected 1-36500 days"),
        (("exclude", "99999999999999999999"), "I have no messages from"),  # past 64 bits
        (("exclude", "'; DROP TABLE messages; --"), "Name a member"),
        (("exclude", "@ghost"), "I have no messages from @ghost"),
        (("disable", "word_cloud_x"), "No plugin 'word_cloud_x' is running"),
        (("heatmap_command.dpi", "9000"), "has no per-chat option 'dpi'"),
        (("heatmap_command.colormap", "no-such-map"), "unknown matplotlib colormap"),
        (("heatmap_command.colormap", "!!python/object:os.system"), "could not determine"),
        (("engagement_scores.top_n", "500"), "expected 1..50, got 500"),
        (("nonsense",), "Unknown setting"),
        (("x",) * (MAX_ARGS + 1), "Too many words"),
    ],
)
async def test_bad_words_change_nothing(
    command: SettingsCommand, store: Any, args: tuple[str, ...], message: str
) -> None:
    with pytest.raises(SettingError, match=message):
        await command.apply(CHAT, 1, args)
    assert stored(store) == {}
    assert store.settings.load(CHAT).excluded == frozenset()
