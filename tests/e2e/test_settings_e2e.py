"""Per-chat settings through the real ``tgstats run`` and the local Bot API stand-in.

One bot process serves the module; the tests run in file order.  A chat's
administrators are whoever the stand-in's ``getChatAdministrators`` names.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from .conftest import ADMIN, RunningBot, run_tgstats

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

TOKYO_CHAT, CHAT_A, CHAT_B = -100501, -100502, -100503
OWNER, MEMBER, HELPER = 3001, 3002, 3003
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
REFUSAL = "Sorry, /settings is for this chat's administrators only."


def _cell(moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    return f"{WEEKDAYS[local.weekday()]} {local.hour:02d}:00"


def _settings_rows(bot: RunningBot, chat_id: int) -> list[dict[str, object]]:
    return [r for r in bot.export("--settings") if "settings" in r and r["chat_id"] == chat_id]


def test_the_bot_asks_telegram_for_chat_member_updates(bot: RunningBot) -> None:
    polls = [params for name, params in bot.api.calls if name == "getUpdates"]
    assert "chat_member" in polls[-1]["allowed_updates"]


def test_a_member_who_is_not_an_admin_is_refused(bot: RunningBot) -> None:
    api = bot.api
    api.set_admins(TOKYO_CHAT, {OWNER: "creator", HELPER: "administrator"})
    reply = bot.ask(TOKYO_CHAT, MEMBER, "/settings timezone Asia/Tokyo")
    assert reply.plain == REFUSAL
    assert bot.ask(TOKYO_CHAT, MEMBER, "/settings").plain == REFUSAL  # not even to read
    assert _settings_rows(bot, TOKYO_CHAT) == []  # nothing changed
    # The chat's own admin (not one of the bot's admins) may.
    reply = bot.ask(TOKYO_CHAT, HELPER, "/settings period 30")
    assert reply.plain == "period is now 30 in this chat."
    asked = api.call_count("getChatAdministrators")
    # Demoted: the chat_member update drops the cached admin list at once.
    api.member_update(TOKYO_CHAT, HELPER, "administrator", "member", by=OWNER)
    assert bot.ask(TOKYO_CHAT, HELPER, "/settings period 7").plain == REFUSAL
    assert api.call_count("getChatAdministrators") == asked + 1
    assert _settings_rows(bot, TOKYO_CHAT)[0]["settings"] == {"period": 30}
    # Hostile input gets a usage error, and still changes nothing.
    for text in ("/settings timezone ../../etc/passwd", "/settings period 99999999", "/settings x"):
        answer = bot.ask(TOKYO_CHAT, OWNER, text).plain
        assert "Usage: /settings" in answer
    long = bot.ask(TOKYO_CHAT, OWNER, "/settings heatmap_command.colormap " + "x" * 3000).plain
    assert "at most 256 characters" in long
    assert _settings_rows(bot, TOKYO_CHAT)[0]["settings"] == {"period": 30}


def test_after_an_admin_sets_asia_tokyo_the_heatmap_shifts_nine_hours(bot: RunningBot) -> None:
    api = bot.api
    # Four messages in one hour, an hour ago (inside the 30-day default period).
    moment = datetime.fromtimestamp((int(time.time()) // 3600 - 1) * 3600 + 1800, UTC)
    for i in range(4):
        api.send_message(TOKYO_CHAT, MEMBER, f"busy hour {i}", date=int(moment.timestamp()))
    before = bot.ask(TOKYO_CHAT, MEMBER, "/heatmap", timeout=60)
    assert before.method == "sendPhoto"
    assert f"{_cell(moment, 'UTC')}" in before.caption and "UTC)" in before.caption
    reply = bot.ask(TOKYO_CHAT, OWNER, "/settings timezone Asia/Tokyo")
    assert reply.plain == "timezone is now Asia/Tokyo in this chat."
    after = bot.ask(TOKYO_CHAT, MEMBER, "/heatmap", timeout=60)
    assert after.method == "sendPhoto"
    tokyo = _cell(moment, "Asia/Tokyo")
    assert tokyo != _cell(moment, "UTC")
    assert f"Busiest hour (outlined): {tokyo}" in after.caption
    assert "4 messages, Asia/Tokyo" in after.caption
    # The same chat's engagement counts active days in Tokyo time too; another
    # chat keeps the operator's zone.
    api.send_message(CHAT_B, MEMBER, "elsewhere", date=int(moment.timestamp()))
    other = bot.ask(CHAT_B, MEMBER, "/heatmap", timeout=60)
    assert f"{_cell(moment, 'UTC')}" in other.caption and "UTC)" in other.caption


def test_a_plugin_off_in_chat_a_still_answers_in_chat_b_and_leaves_a_menu(
    bot: RunningBot,
) -> None:
    api = bot.api
    api.send_message(CHAT_A, MEMBER, "some words to rank")
    assert api.menu(f"chat:{CHAT_A}") == []  # no menu of its own yet
    ranking = bot.ask(CHAT_A, MEMBER, "/engagement", timeout=60)  # with period buttons
    reply = bot.ask(CHAT_A, ADMIN, "/settings disable engagement_scores")  # a bot admin
    assert reply.plain == "engagement_scores is now off in this chat."
    api.wait_for(lambda: api.menu(f"chat:{CHAT_A}"), 10, "chat A's own menu")
    menu_a = api.menu(f"chat:{CHAT_A}")
    assert "engagement" not in menu_a
    assert {"heatmap", "wordcloud", "settings"} <= set(menu_a)
    assert "engagement" in api.menu()  # the default menu, for every other chat
    assert api.menu(f"chat:{CHAT_B}") == []
    # Chat A: /engagement is not answered.  Lanes keep a chat's order, so the
    # reply after it is the one to the /settings sent behind it.
    before = len(api.sent_to(CHAT_A))
    api.send_message(CHAT_A, MEMBER, "/engagement")
    listing = bot.ask(CHAT_A, ADMIN, "/settings")
    assert len(api.sent_to(CHAT_A)) == before + 1
    assert listing.plain.startswith("Settings of this chat:")
    assert "engagement_scores: off (chat setting" in listing.plain
    # Its buttons under an earlier answer are refused there too, and nothing is edited.
    edits = len(api.edits)
    query = api.press(ranking, MEMBER, "7 days")
    assert api.wait_for_answer(query).text == "Sorry, this button is not for you."
    assert len(api.edits) == edits
    # Chat B is unaffected.
    answer = bot.ask(CHAT_B, MEMBER, "/engagement", timeout=60)
    assert answer.plain.startswith("Engagement in")
    # Back on: chat A follows the default menu again and answers.
    assert bot.ask(CHAT_A, ADMIN, "/settings enable engagement_scores").plain.endswith(
        "is now on in this chat."
    )
    api.wait_for(lambda: api.menu(f"chat:{CHAT_A}") == [], 10, "chat A's menu dropped")
    assert bot.ask(CHAT_A, MEMBER, "/engagement", timeout=60).plain.startswith("Engagement in")


def test_chats_show_and_export_tell_where_each_value_comes_from(bot: RunningBot) -> None:
    bot.ask(TOKYO_CHAT, OWNER, "/settings engagement_scores.top_n 3")
    done = run_tgstats(bot.env, "chats", "show", str(TOKYO_CHAT))
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines()[1:] if line.strip()}
    assert "Asia/Tokyo" in lines["timezone"] and f"by {OWNER}" in lines["timezone"]
    assert "Asia/Tokyo" in lines["heatmap_command.timezone"]
    assert "chat setting" in lines["heatmap_command.timezone"]
    assert lines["engagement_scores.top_n"].split()[1] == "3"
    assert "chat setting" in lines["engagement_scores.top_n"]
    assert "plugin.yaml (" in lines["heatmap_command.annotate"]  # shipped with the plugin
    listed = run_tgstats(bot.env, "chats", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["chat_id"]: row for row in json.loads(listed.stdout)}
    assert rows[TOKYO_CHAT]["settings"]["timezone"] == "Asia/Tokyo"
    assert rows[CHAT_B]["settings"] == {}
    exported = _settings_rows(bot, TOKYO_CHAT)[0]["settings"]
    assert exported == {
        "timezone": "Asia/Tokyo",
        "period": 30,
        "option:engagement_scores.top_n": 3,
    }


def test_an_excluded_member_leaves_the_statistics(bot: RunningBot) -> None:
    api = bot.api
    chat = -100504
    api.set_admins(chat, {OWNER: "creator"})
    api.send_message(chat, 4001, "hello from ann", username="ann")
    loud = api.send_message(chat, 4002, "hello from bo", username="bo")
    api.send_message(chat, 4002, "more from bo", username="bo")
    ranking = bot.ask(chat, OWNER, "/engagement", timeout=60).plain
    assert "(2 members)" in ranking
    assert bot.ask(chat, OWNER, "/settings exclude @bo").plain == (
        "Member 4002 is now left out of this chat's statistics."
    )
    assert "(1 member)" in bot.ask(chat, OWNER, "/engagement", timeout=60).plain
    # Naming the member by replying to one of their messages.
    api.inject(
        {
            "message": {
                **api.message(chat, OWNER, "/settings include"),
                "reply_to_message": loud,
            }
        }
    )
    api.wait_for(lambda: len(api.sent_to(chat)) >= 4, 20, "the include reply")
    assert api.sent_to(chat)[-1].plain == "Member 4002 counts again."
    assert "(2 members)" in bot.ask(chat, OWNER, "/engagement", timeout=60).plain
    unknown = bot.ask(chat, OWNER, "/settings exclude @nobody_here").plain
    assert unknown.startswith("I have no messages from @nobody_here")


def _press(bot: RunningBot, sent: object, user_id: int, label: str) -> object:
    query_id = bot.api.press(sent, user_id, label)
    try:
        return bot.api.wait_for_answer(query_id)
    except TimeoutError:
        bot.check_alive()
        raise


def test_the_inline_menu_changes_settings_for_admins_only(bot: RunningBot) -> None:
    api = bot.api
    chat = -100505
    api.set_admins(chat, {OWNER: "creator"})
    menu = bot.ask(chat, OWNER, "/settings")
    assert menu.plain.startswith("Settings of this chat:")
    labels = [item["text"] for row in menu.buttons for item in row]
    assert labels[:5] == ["7 days", "30 days", "1 year", "All", "• Default"]
    assert "✅ heatmap_command" in labels and "✅ engagement_scores" in labels
    # A member who is not an admin presses: refused, nothing changes.
    answer = _press(bot, menu, MEMBER, "7 days")
    assert answer.text == "Sorry, this button is not for you."
    assert _settings_rows(bot, chat) == []
    edits = len(api.edits)
    # The admin presses "7 days": stored, and the message is edited in place.
    assert _press(bot, menu, OWNER, "7 days").text == ""
    assert _settings_rows(bot, chat)[0]["settings"] == {"period": 7}
    edit = api.edits[edits]
    assert (edit.chat_id, edit.message_id) == (chat, menu.message_id)
    assert edit.params["text"].startswith("period is now 7 in this chat.")
    edited = [b["text"] for row in edit.params["reply_markup"]["inline_keyboard"] for b in row]
    assert "• 7 days" in edited
    # The switch turns a plugin off here: gone from the chat's menu, silent in the chat.
    _press(bot, menu, OWNER, "✅ word_cloud")
    api.wait_for(lambda: api.menu(f"chat:{chat}"), 10, "the chat's own command menu")
    assert "wordcloud" not in api.menu(f"chat:{chat}")
    assert _settings_rows(bot, chat)[0]["settings"] == {"period": 7, "plugin:word_cloud": False}
    last = api.edits[-1]
    switched = [b["text"] for row in last.params["reply_markup"]["inline_keyboard"] for b in row]
    assert "❌ word_cloud" in switched
    assert "❌ word_cloud" in [b["text"] for row in menu.buttons for b in row]  # edited
    _press(bot, menu, OWNER, "❌ word_cloud")  # back on
    api.wait_for(lambda: api.menu(f"chat:{chat}") == [], 10, "the chat's menu dropped")
    assert _settings_rows(bot, chat)[0]["settings"] == {"period": 7}


def test_settings_survive_a_reload_of_every_plugin(bot: RunningBot) -> None:
    report = bot.ask(TOKYO_CHAT, ADMIN, "/reload", timeout=60).plain
    assert report.startswith("Reload done"), report
    after = bot.ask(TOKYO_CHAT, MEMBER, "/heatmap", timeout=60)
    assert "Asia/Tokyo)" in after.caption  # the new instances read the same settings
    ranking = bot.ask(TOKYO_CHAT, MEMBER, "/engagement all", timeout=60).plain
    assert ranking.startswith("Engagement in")


def test_settings_answer_in_the_chat_s_or_the_admin_s_language(bot: RunningBot) -> None:
    api = bot.api
    chat = -100506
    api.set_admins(chat, {OWNER: "creator", HELPER: "administrator"})
    # No chat language yet: each member is answered in their Telegram app's language.
    refusal = bot.ask(chat, MEMBER, "/settings period 7", language_code="ru").plain
    assert refusal == "Извините, /settings доступна только администраторам этого чата."
    usage = bot.ask(chat, OWNER, "/settings period 0", language_code="ru").plain
    assert usage.startswith("period: нужно от 1 до 36500 дней или 'all', а указано '0'\n")
    assert "Как пользоваться: /settings [timezone ЗОНА" in usage
    english = bot.ask(chat, HELPER, "/settings period 0", language_code="en").plain
    assert english.startswith("period: expected 1-36500 days or 'all', got '0'\nUsage: /settings")
    assert bot.ask(chat, HELPER, "/settings period 30", language_code="de").plain == (
        "period is now 30 in this chat."  # no German catalog: English
    )
    assert _settings_rows(bot, chat)[0]["settings"] == {"period": 30}
    # The chat chooses Russian: the confirmation is already Russian, even for an
    # English-speaking admin, and so is everything after it; values stay as typed.
    reply = bot.ask(chat, HELPER, "/settings language ru", language_code="en").plain
    assert reply == "language: теперь ru в этом чате."
    menu = bot.ask(chat, HELPER, "/settings", language_code="en")
    assert menu.plain.startswith("Настройки этого чата:\ntimezone: - (не задано")
    assert "language: ru (настройка чата (" in menu.plain and f"изменил {HELPER})" in menu.plain
    labels = [item["text"] for row in menu.buttons for item in row]
    assert labels[:5] == ["7 дней", "• 30 дней", "1 год", "Всё", "По умолчанию"]
    assert "✅ heatmap_command" in labels  # plugin names stay as they are
    edits = len(api.edits)
    assert _press(bot, menu, HELPER, "7 дней").text == ""
    edit = api.edits[edits]
    assert edit.params["text"].startswith("period: теперь 7 в этом чате.\n\nНастройки этого чата:")
    edited = [b["text"] for row in edit.params["reply_markup"]["inline_keyboard"] for b in row]
    assert "• 7 дней" in edited
    # Back to the default language: confirmed in the admin's own language again.
    back = bot.ask(chat, OWNER, "/settings language default", language_code="en").plain
    assert back == "language is back to its default."
    assert _settings_rows(bot, chat)[0]["settings"] == {"period": 7}
