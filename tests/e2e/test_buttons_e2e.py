"""Inline buttons, end to end: the real ``tgstats run`` against the Bot API stand-in.

A press edits the message it is under in place and is answered once; a
forged, malformed, foreign or stale press is answered and changes nothing.
One bot serves the module; the tests run in file order and the last one
disables the probe plugin.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import (
    ADMIN,
    PROBE_PACKAGE,
    PROBE_PLUGIN,
    RunningBot,
    bot_env,
    fake_bot_api,
    launch_bot,
    make_distribution,
    plugins_yaml,
    stop_bot,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

GROUP_A, GROUP_B, GROUP_RU, GROUP_SET_RU = -100411, -100422, -100433, -100444
ALICE, BOB = 4001, 4002
REFUSED = "This button does not work (any more). Send the command again."

BUTTON_PROBE = textwrap.dedent(
    '''\
    """A plugin with text buttons, for the end-to-end tests."""

    import asyncio

    from tgstats.plugins import (
        Button, ButtonContext, CommandContext, NoConfig, Plugin, TextReply, button, command,
    )


    def keys(n: int) -> list[list[Button]]:
        return [
            [Button("Count", "count", str(n)), Button("Same", "same"), Button("Boom", "boom")],
            [Button("Slow", "slow")],
        ]


    class ProbePlugin(Plugin[NoConfig]):
        @command("probe", "End-to-end probe")
        async def probe(self, ctx: CommandContext) -> TextReply:
            return TextReply("probe v1", buttons=keys(1))

        @button("count")
        async def count(self, ctx: ButtonContext) -> TextReply:
            n = int(ctx.payload)
            return TextReply(f"count {n} by {ctx.user_id} in {ctx.chat_id}", buttons=keys(n + 1))

        @button("same")
        async def same(self, ctx: ButtonContext) -> TextReply:
            return TextReply("probe v1", buttons=keys(1))  # what the message already shows

        @button("slow")
        async def slow(self, ctx: ButtonContext) -> TextReply:
            await asyncio.sleep(3.0)
            return TextReply("slow done")

        @button("boom")
        def boom(self, ctx: ButtonContext) -> TextReply:
            raise RuntimeError("boom pressed")
    '''
)


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    tmp = tmp_path_factory.mktemp("e2e-buttons")
    plugin_py = make_distribution(
        tmp / "site", PROBE_PACKAGE, PROBE_PLUGIN, "ProbePlugin", BUTTON_PROBE
    )
    config = tmp / "plugins.yaml"
    config.write_text(plugins_yaml())
    with fake_bot_api.ThreadedFakeBotApi() as api:
        env = bot_env(api, tmp)
        output = tmp / "console.log"
        process = launch_bot(env, tmp, output)
        running = RunningBot(
            api, process, env, tmp, plugin_py, config, tmp / "logs" / "tgstats.log", output
        )
        try:
            api.wait_for(
                lambda: (
                    running.check_alive()
                    or ("probe" in api.menu() and api.call_count("getUpdates"))
                ),
                60,
                "the bot to start polling",
            )
            yield running
        finally:
            stop_bot(process)


def press_and_wait(bot: RunningBot, sent: Any, user_id: int, label: str) -> Any:
    query_id = bot.api.press(sent, user_id, label)
    try:
        return bot.api.wait_for_answer(query_id)
    except TimeoutError:
        bot.check_alive()
        raise


def inject_and_wait(bot: RunningBot, update: dict[str, Any]) -> Any:
    bot.api.inject(update)
    try:
        return bot.api.wait_for_answer(update["callback_query"]["id"])
    except TimeoutError:
        bot.check_alive()
        raise


def test_allowed_updates_include_callback_query(bot: RunningBot) -> None:
    polls = [params for name, params in bot.api.calls if name == "getUpdates"]
    assert any("callback_query" in (p.get("allowed_updates") or []) for p in polls)


def test_seven_days_under_a_heatmap_edits_that_photo_and_answers(bot: RunningBot) -> None:
    api = bot.api
    old = int(time.time()) - 20 * 86400  # inside 30 days, outside 7
    for i in range(6):
        api.send_message(GROUP_A, ALICE, f"older {i}", date=old + i * 3600)
    api.send_message(GROUP_A, BOB, "fresh news", date=int(time.time()) - 3600)
    photo = bot.ask(GROUP_A, BOB, "/heatmap", timeout=30)
    assert photo.method == "sendPhoto"
    labels = [[b["text"] for b in row] for row in photo.buttons]
    assert labels == [["7 days", "• 30 days", "1 year", "All"], ["Me", "• Everyone"]]
    assert all(len(b["callback_data"].encode()) <= 64 for row in photo.buttons for b in row)
    first_png, first_caption = photo.photo, photo.caption
    edits_before = len(api.edits)

    answer = press_and_wait(bot, photo, BOB, "7 days")

    assert answer.text == "" and not answer.show_alert
    edit = api.wait_for(lambda: api.edits[edits_before:], what="an edit")[0]
    assert (edit.method, edit.chat_id, edit.message_id) == (
        "editMessageMedia",
        GROUP_A,
        photo.message_id,
    )
    now = api.message_now(GROUP_A, photo.message_id)
    assert now.photo is not None and now.photo.startswith(b"\x89PNG") and now.photo != first_png
    assert (now.caption and now.caption != first_caption) or now.photo != first_png
    assert [b["text"] for b in now.buttons[0]] == ["• 7 days", "30 days", "1 year", "All"]
    assert len(api.sent_to(GROUP_A)) == 1  # edited, not sent again

    # "Me": the presser's own heatmap; Alice has nothing in the last 7 days.
    answer = press_and_wait(bot, now, ALICE, "Me")
    assert (
        answer.text == "I have no messages from you in this chat." or "No messages" in answer.text
    )
    assert len(api.edits) == edits_before + 1  # a text answer under a photo edits nothing
    answer = press_and_wait(bot, now, BOB, "Me")
    assert answer.text == ""
    mine = api.message_now(GROUP_A, photo.message_id)
    assert [b["text"] for b in mine.buttons[1]] == ["• Me", "Everyone"]
    assert "plugin_handler_failed" not in bot.log()


def test_a_russian_speaking_member_gets_russian_replies_and_buttons(bot: RunningBot) -> None:
    api = bot.api
    recent = int(time.time()) - 2 * 86400
    for i in range(5):
        api.send_message(GROUP_RU, ALICE, f"привет {i}", date=recent + i, language_code="ru")
    ranking = bot.ask(GROUP_RU, BOB, "/engagement", timeout=30, language_code="ru")
    assert ranking.method == "sendMessage"
    assert ranking.plain.startswith(f"Вовлечённость в Chat {GROUP_RU} за последние 30 дней")
    assert "5 сообщений" in ranking.plain
    assert [b["text"] for b in ranking.buttons[0]] == ["7 дней", "• 30 дней", "1 год", "Всё"]

    # A press is answered in the presser's language ("pt-br": untranslated, English) ...
    query_id = api.press(ranking, BOB, "7 дней", language_code="ru")
    assert api.wait_for_answer(query_id).text == ""
    now = api.message_now(GROUP_RU, ranking.message_id)
    assert now.text.startswith(f"Вовлечённость в Chat {GROUP_RU} за последние 7 дней")
    query_id = api.press(now, ALICE, "Всё", language_code="pt-br")
    assert api.wait_for_answer(query_id).text == ""
    english = api.message_now(GROUP_RU, ranking.message_id)
    assert english.text.startswith(f"Engagement in Chat {GROUP_RU}, all time")
    assert [b["text"] for b in english.buttons[0]] == ["7 days", "30 days", "1 year", "• All"]

    # ... and so is a refusal from the host.
    forged = api.callback_query(english, ALICE, "engagement_scores|period|7:all|AAAAAAAAAAA")
    forged["callback_query"]["from"]["language_code"] = "ru"
    assert inject_and_wait(bot, forged).text == (
        "Эта кнопка (больше) не работает. Отправьте команду ещё раз."
    )

    photo = bot.ask(GROUP_RU, ALICE, "/heatmap", timeout=30, language_code="ru-RU")
    assert photo.method == "sendPhoto"
    assert photo.caption.startswith("Самый активный час (обведён): ")
    assert "(5 сообщений, UTC)" in photo.caption
    assert [b["text"] for b in photo.buttons[1]] == ["Я", "• Все"]
    assert "plugin_handler_failed" not in bot.log()


def test_a_chat_set_to_russian_answers_everyone_in_russian(bot: RunningBot) -> None:
    api = bot.api
    set_reply = bot.ask(GROUP_SET_RU, ADMIN, "/settings language ru", language_code="en")
    assert "ru" in set_reply.plain
    api.send_message(GROUP_SET_RU, ALICE, "hello", date=int(time.time()) - 3600)
    # Members whose apps are in English (or say nothing) get Russian: the chat chose it.
    ranking = bot.ask(GROUP_SET_RU, BOB, "/engagement", timeout=30, language_code="en")
    assert ranking.plain.startswith(f"Вовлечённость в Chat {GROUP_SET_RU} за последние 30 дней")
    assert [b["text"] for b in ranking.buttons[0]] == ["7 дней", "• 30 дней", "1 год", "Всё"]
    query_id = api.press(ranking, BOB, "Всё", language_code="en")
    assert api.wait_for_answer(query_id).text == ""
    now = api.message_now(GROUP_SET_RU, ranking.message_id)
    assert now.text.startswith(f"Вовлечённость в Chat {GROUP_SET_RU} за всё время")
    forged = api.callback_query(now, ALICE, "engagement_scores|period|7:all|AAAAAAAAAAA")
    assert inject_and_wait(bot, forged).text == (
        "Эта кнопка (больше) не работает. Отправьте команду ещё раз."
    )


def test_text_buttons_edit_text_and_not_modified_is_no_error(bot: RunningBot) -> None:
    api = bot.api
    sent = bot.ask(GROUP_A, ALICE, "/probe")
    assert sent.plain == "probe v1"
    answer = press_and_wait(bot, sent, BOB, "Count")
    assert answer.text == ""
    now = api.message_now(GROUP_A, sent.message_id)
    assert now.text == f"count 1 by {BOB} in {GROUP_A}"
    assert api.edits[-1].method == "editMessageText"
    answer = press_and_wait(bot, now, BOB, "Count")
    assert api.message_now(GROUP_A, sent.message_id).text == f"count 2 by {BOB} in {GROUP_A}"

    fresh = bot.ask(GROUP_A, ALICE, "/probe")
    edits = len(api.edits)
    answer = press_and_wait(bot, fresh, ALICE, "Same")  # Telegram: "message is not modified"
    assert answer.text == ""
    assert len(api.edits) == edits
    assert "edit_failed" not in bot.log()

    answer = press_and_wait(bot, fresh, ALICE, "Boom")
    assert answer.text.startswith("Sorry")
    assert len(api.edits) == edits
    assert "plugin_handler_failed" in bot.log() and "boom pressed" in bot.log()


def test_forged_and_malformed_presses_change_nothing(bot: RunningBot) -> None:
    api = bot.api
    sent = bot.ask(GROUP_A, ALICE, "/probe")
    data = sent.button_data("Count")
    namespace, handler, payload, signature = data.split("|")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    hostile = [
        f"{namespace}|{handler}|999|{signature}",  # payload changed, old signature
        f"{namespace}|{handler}|{payload}|{flipped}",  # signature altered
        f"heatmap_command|view|7:all|{signature}",  # another plugin's namespace
        "garbage",
        "",
        "|||",
        "x" * 64,
        "é" * 40,  # 80 bytes: more than Telegram would ever send
        None,  # a game button: no data at all
    ]
    edits = len(api.edits)
    for data in hostile:
        answer = inject_and_wait(bot, api.callback_query(sent, BOB, data))
        assert answer.text == REFUSED, data
    assert len(api.edits) == edits
    assert api.message_now(GROUP_A, sent.message_id).text == "probe v1"
    # Rejections are logged with the reason, at most 10 lines a minute.
    assert "button_rejected" in bot.log() and "bad signature" in bot.log()
    assert 9 <= bot.log().count("button_rejected") <= 10
    # The bot keeps recording and answering.
    api.send_message(GROUP_A, BOB, "still here after the forgeries")
    assert bot.ask(GROUP_A, BOB, "/probe").plain == "probe v1"
    assert any(r["text"] == "still here after the forgeries" for r in bot.export())
    bot.check_alive()


def test_a_press_in_one_chat_cannot_edit_another_chats_message(bot: RunningBot) -> None:
    api = bot.api
    in_a = bot.ask(GROUP_A, ALICE, "/probe")
    in_b = bot.ask(GROUP_B, BOB, "/probe")
    edits = len(api.edits)
    # A's button data pressed under B's message: signed for A, refused in B.
    answer = inject_and_wait(bot, api.callback_query(in_b, BOB, in_a.button_data("Count")))
    assert answer.text == REFUSED
    # A press claiming chat B with A's message id: the data is signed for A's chat.
    answer = inject_and_wait(
        bot, api.callback_query(in_a, BOB, in_a.button_data("Count"), chat_id=GROUP_B)
    )
    assert answer.text == REFUSED
    assert len(api.edits) == edits
    assert api.message_now(GROUP_A, in_a.message_id).text == "probe v1"
    assert api.message_now(GROUP_B, in_b.message_id).text == "probe v1"
    # B's own button works in B and edits only B's message.
    press_and_wait(bot, in_b, BOB, "Count")
    assert [(e.chat_id, e.message_id) for e in api.edits[edits:]] == [(GROUP_B, in_b.message_id)]


def test_a_slow_press_holds_up_neither_fetching_nor_other_chats(bot: RunningBot) -> None:
    api = bot.api
    sent = bot.ask(GROUP_A, ALICE, "/probe")
    (update_id,) = api.inject(api.callback_query(sent, ALICE, sent.button_data("Slow")))
    api.wait_for(lambda: api.deliveries.get(update_id), what="the press to be fetched")
    # The handler sleeps 3 s.  Meanwhile the press is confirmed, and another
    # chat's command is recorded and answered.
    api.wait_for(lambda: api.pending_count() == 0, timeout=2.0, what="the press to be confirmed")
    assert bot.ask(GROUP_B, BOB, "/probe", timeout=2.0).plain == "probe v1"
    assert api.message_now(GROUP_A, sent.message_id).text == "probe v1", "the slow press ended"
    api.wait_for(lambda: api.message_now(GROUP_A, sent.message_id).text == "slow done")
    assert api.deliveries[update_id] == 1


def test_member_card_for_me_and_in_reply_with_period_buttons(bot: RunningBot) -> None:
    """The member card plugin (tgstats-profile), installed like the others: /me and /whois
    answer with one picture, and its period buttons redraw it in place."""
    api = bot.api
    chat = -100487
    carol = 4003
    first = api.send_message(chat, carol, "coffee at nine?", username="carol")
    api.send_message(chat, ALICE, "yes please", reply_to=first)
    card = bot.ask(chat, carol, "/me", timeout=30)
    assert card.method == "sendPhoto" and card.photo.startswith(b"\x89PNG")
    assert card.caption.startswith("User 4003: 1 message (50.0 % of the chat), all time")
    assert [b["text"] for b in card.buttons[0]] == ["7 days", "30 days", "1 year", "• All"]
    before = len(api.sent_to(chat))
    api.send_message(chat, ALICE, "/whois", reply_to=first)
    other = api.wait_for_reply(chat, before, 30)
    assert other.method == "sendPhoto"
    assert other.caption.startswith("User 4003: 1 message")
    answer = press_and_wait(bot, other, ALICE, "7 days")
    assert answer.text == "" and not answer.show_alert
    now = api.message_now(chat, other.message_id)
    assert [b["text"] for b in now.buttons[0]] == ["• 7 days", "30 days", "1 year", "All"]
    assert "plugin_handler_failed plugin=member_profile" not in bot.log()


def test_a_disabled_plugins_buttons_get_a_short_answer_and_nothing_else(
    bot: RunningBot,
) -> None:
    api = bot.api
    sent = bot.ask(GROUP_A, ALICE, "/probe")
    bot.config.write_text(plugins_yaml(disabled=(PROBE_PLUGIN,)))
    api.wait_for(lambda: "probe" not in api.menu(), 30, "the probe to leave the menu")
    edits = len(api.edits)
    answer = press_and_wait(bot, sent, ALICE, "Count")
    assert answer.text == REFUSED
    assert len(api.edits) == edits
    assert bot.log().count("button_rejected") <= 10  # the limit holds: refused quietly
    bot.check_alive()
