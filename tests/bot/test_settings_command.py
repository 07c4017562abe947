"""/settings text form: what an admin's words do, and hostile words refused, on a real store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
from tgstats.bot.chat_admins import ChatAdmins
from tgstats.bot.settings_command import MAX_ARGS, SettingsCommand
from tgstats.bot.settings_menu import SettingsMenu
from tgstats.config import default_config_path, load_host_config
from tgstats.host.chat_settings import ChatSettingsService, SettingError
from tgstats.host.discovery import discover_plugins
from tgstats.host.loading import inspect_plugins
from tgstats.host.services import Host
from tgstats.plugins import ButtonContext
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
    # The chat chose Russian above: the listing speaks it; keys and values stay as typed.
    assert "period: 30 (настройка чата" in listing
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


# -- the admin's language ---------------------------------------------------------------------


async def test_replies_follow_the_member_then_the_chat_language(
    command: SettingsCommand, store: Any
) -> None:
    fill_store(store, [make_message(make_chat(CHAT), make_user(5, "Eve", username="eve"), "hi")])
    # No chat language: the member's Telegram language; English stays English.
    ru = await command.apply(CHAT, 1, ("period", "30"), user_language="ru")
    assert ru.text == "period: теперь 30 в этом чате."
    en = await command.apply(CHAT, 1, ("period", "7"), user_language="en")
    assert en.text == "period is now 7 in this chat."
    excluded = await command.apply(CHAT, 1, ("exclude", "@eve"), user_language="ru")
    assert excluded.text == "Участник 5 больше не учитывается в статистике этого чата."
    off = await command.apply(CHAT, 1, ("disable", "heatmap_command"), user_language="ru-RU")
    assert off.text == "heatmap_command теперь выключен в этом чате."
    # The chat chooses Russian: its own confirmation is already Russian, for anyone.
    chosen = await command.apply(CHAT, 1, ("language", "ru"), user_language="en")
    assert chosen.text == "language: теперь ru в этом чате."
    option = await command.apply(CHAT, 1, ("heatmap_command.colormap", "Blues"))
    assert option.text == "heatmap_command.colormap: теперь Blues в этом чате."
    listing = (await command.apply(CHAT, 1, (), user_language="en")).text
    assert listing.startswith("Настройки этого чата:\n")
    assert "heatmap_command: off (настройка чата (" in listing and "изменил 1)" in listing
    assert "excluded: 5 (настройка чата; боты исключены всегда)" in listing
    assert "heatmap_command.annotate: true (plugin.yaml (" in listing  # a file's name as is
    assert listing.endswith("КЛЮЧ default возвращает значение по умолчанию.")
    # Back to the default: the admin's own language again.
    back = await command.apply(CHAT, 1, ("language", "default"), user_language="en")
    assert back.text == "language is back to its default."
    assert (await command.apply(CHAT, 1, ())).text.startswith("Settings of this chat:\n")


@pytest.mark.parametrize(
    ("args", "russian"),
    [
        (("timezone",), "timezone: не указано значение."),
        (("timezone", "Europe/Nowhere"), "timezone: неизвестный часовой пояс IANA"),
        (("language", "not a code"), "language: нужен код языка"),
        (("period", "0"), "period: нужно от 1 до 36500 дней или 'all', а указано '0'"),
        (("exclude", "'; DROP TABLE messages; --"), "Укажите участника как @username"),
        (("exclude", "@ghost"), "У меня нет сообщений от @ghost в этом чате."),
        (("disable", "x{0}{y}"), "Плагин 'x{0}{y}' здесь не запущен (плагины: "),
        (("heatmap_command.dpi", "9000"), "У heatmap_command нет параметра 'dpi'"),
        (("heatmap_command.dpi", "default"), "У heatmap_command нет параметра 'dpi'"),
        (("engagement_scores.top_n", "500"), "engagement_scores.top_n: "),
        (("heatmap_command.colormap", "{a: [1]}"), "heatmap_command.colormap: "),
        (("n{}nsense",), "Неизвестная настройка 'n{}nsense'."),
        (("x",) * (MAX_ARGS + 1), f"Слишком много слов: {MAX_ARGS + 1} (допустимо не больше"),
    ],
)
async def test_errors_are_worded_in_the_admin_s_language(
    command: SettingsCommand, store: Any, args: tuple[str, ...], russian: str
) -> None:
    with pytest.raises(SettingError) as caught:
        await command.apply(CHAT, 1, args, user_language="ru")
    # Braces typed by the admin are values, never placeholders.
    assert caught.value.text("ru").startswith(russian)
    assert caught.value.text("en") == str(caught.value)
    assert stored(store) == {}


async def test_the_menu_is_labelled_in_the_press_s_language(
    command: SettingsCommand, store: Any
) -> None:
    menu = SettingsMenu(command, ChatAdmins(None, frozenset()))  # type: ignore[arg-type]
    await command.apply(CHAT, 1, ("timezone", "Asia/Tokyo"))
    english = [b.label for row in await menu.rows(CHAT) for b in row]
    assert english[:5] == ["7 days", "30 days", "1 year", "All", "• Default"]
    assert "Time zone: back to default" in english
    russian = [b.label for row in await menu.rows(CHAT, "ru") for b in row]
    assert russian[:5] == ["7 дней", "30 дней", "1 год", "Всё", "• По умолчанию"]
    assert "Часовой пояс: по умолчанию" in russian
    assert "✅ heatmap_command" in russian  # plugin names as they are
    pressed = await menu.press(_press(store, "period:365", "ru"))
    assert pressed is not None
    assert pressed.text.startswith("period: теперь 365 в этом чате.\n\nНастройки этого чата:")
    assert "• 1 год" in [b.label for row in pressed.buttons or [] for b in row]
    english_press = await menu.press(_press(store, "plugin:heatmap_command", "en"))
    assert english_press is not None
    assert english_press.text.startswith("heatmap_command is now off in this chat.\n\nSettings")


def _press(store: Any, payload: str, language: str) -> ButtonContext:
    return ButtonContext(
        button="settings",
        payload=payload,
        chat_id=CHAT,
        chat_title="t",
        user_id=1,
        message_id=9,
        now=datetime.now(UTC),
        store=store.queries,
        language=language,
    )
