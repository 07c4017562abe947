"""The real ``tgstats run`` against the local Bot API stand-in.

One bot process serves the whole module (start-up imports matplotlib and the
plugins: a few seconds), so the tests run in file order and each leaves the
bot as it found it; the last one stops it with SIGTERM.
"""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path
from typing import Any

import pytest

from .conftest import (
    ADMIN,
    PROBE_PLUGIN,
    RunningBot,
    fake_bot_api,
    plugins_yaml,
    probe_source,
    run_tgstats,
    without_tgstats_env,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

GROUP_A, GROUP_B, GROUP_C = -100111, -100222, -100333
ALICE, BOB, CAROL = 2001, 2002, 2003
HOST_MENU = ["optout", "optin", "forgetme", "settings", "plugins", "reload"]


def rewrite(path: Any, text: str) -> None:
    # Editors save by writing a temp file and renaming it over the original.
    tmp = path.with_name(path.name + ".swp~")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_menu_lists_the_enabled_plugins_commands_plus_the_hosts(bot: RunningBot) -> None:
    menu = bot.api.menu()
    assert set(menu) == {
        "heatmap",
        "wordcloud",
        "engagement",
        "activity",
        "replies",
        "me",
        "whois",
        "probe",
        *HOST_MENU,
    }
    assert menu[-len(HOST_MENU) :] == HOST_MENU


def test_messages_from_several_chats_and_users_are_stored(bot: RunningBot) -> None:
    api = bot.api
    sent = []
    for i in range(30):
        chat = (GROUP_A, GROUP_B, GROUP_C)[i % 3]
        user = (ALICE, BOB, CAROL)[i % 3 if i % 2 else (i + 1) % 3]
        sent.append(api.send_message(chat, user, f"message {i} about coffee and tea"))
    api.edit_message(sent[0], "message 0, edited")
    bot.ask(GROUP_A, ALICE, "/probe")  # processed in order: everything before is stored
    rows = bot.export()
    by_chat = {chat: [r for r in rows if r["chat_id"] == chat] for chat in (GROUP_A, GROUP_B)}
    assert len(by_chat[GROUP_A]) == 11  # 10 messages + /probe
    assert len(by_chat[GROUP_B]) == 10
    assert len({r["user_id"] for r in rows}) == 3
    edited = next(
        r for r in rows if r["message_id"] == sent[0]["message_id"] and r["chat_id"] == GROUP_A
    )
    assert edited["text"] == "message 0, edited"
    assert all(r["date"].endswith(("Z", "+00:00")) for r in rows)


@pytest.mark.parametrize("command", ["heatmap", "wordcloud", "engagement"])
def test_each_plugin_command_answers(bot: RunningBot, command: str) -> None:
    reply = bot.ask(GROUP_A, BOB, f"/{command}", timeout=30)
    assert reply.method in ("sendMessage", "sendPhoto")
    if reply.method == "sendPhoto":
        assert reply.photo.startswith(b"\x89PNG")
    else:
        assert reply.plain.strip()
        assert not reply.plain.startswith("Sorry,")
    assert "plugin_handler_failed plugin=" not in bot.log() or command not in bot.log()


def test_activity_and_replies_answer_with_pictures(bot: RunningBot) -> None:
    api = bot.api
    first = api.send_message(GROUP_C, ALICE, "who is climbing on Saturday?")
    answer = api.send_message(GROUP_C, BOB, "me!", reply_to=first)
    api.send_message(GROUP_C, ALICE, "great, 9 am", reply_to=answer)
    for command in ("activity", "replies"):
        reply = bot.ask(GROUP_C, CAROL, f"/{command}", timeout=30)
        assert reply.method == "sendPhoto", (command, reply)
        assert reply.photo.startswith(b"\x89PNG")
    assert "plugin_handler_failed" not in bot.log()


def test_editing_a_plugin_file_changes_its_answer(bot: RunningBot) -> None:
    assert bot.ask(GROUP_B, ALICE, "/probe").text == "probe v1"
    rewrite(bot.plugin_py, probe_source("probe v2"))
    bot.api.wait_for(
        lambda: bot.ask(GROUP_B, ALICE, "/probe").text == "probe v2", 30, "the new answer"
    )
    assert "plugins_reloaded" in bot.log()


def test_syntax_error_keeps_the_old_answer_and_tells_the_admins(bot: RunningBot) -> None:
    before = len(bot.api.sent_to(ADMIN))
    broken = probe_source("probe v3").replace("async def probe(", "async def probe(:")
    rewrite(bot.plugin_py, broken)
    dm = bot.api.wait_for_reply(ADMIN, before, 30)
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if "def probe(:" in text)
    assert PROBE_PLUGIN in dm.text
    assert f"File: {bot.plugin_py.resolve()}" in dm.text
    assert f"Line: {line}" in dm.text
    assert "syntax" in dm.text.lower()
    assert bot.ask(GROUP_B, ALICE, "/probe").text == "probe v2"
    assert "plugin_reload_failed" in bot.log()
    # Fixing the file loads the fix.
    rewrite(bot.plugin_py, probe_source("probe v3"))
    bot.api.wait_for(lambda: bot.ask(GROUP_B, ALICE, "/probe").text == "probe v3", 30, "fix")


def test_disabling_a_plugin_removes_its_command_from_the_menu(bot: RunningBot) -> None:
    rewrite(bot.config, plugins_yaml(disabled=("word_cloud",)))
    bot.api.wait_for(lambda: "wordcloud" not in bot.api.menu(), 30, "wordcloud to leave the menu")
    assert set(bot.api.menu()) == {
        "heatmap",
        "engagement",
        "activity",
        "replies",
        "me",
        "whois",
        "probe",
        *HOST_MENU,
    }
    # The command is gone too: /wordcloud goes unanswered (the /probe after it answers).
    before = len(bot.api.sent_to(GROUP_C))
    bot.api.send_message(GROUP_C, ALICE, "/wordcloud")
    assert bot.ask(GROUP_C, ALICE, "/probe").text == "probe v3"
    assert len(bot.api.sent_to(GROUP_C)) == before + 1
    rewrite(bot.config, plugins_yaml())
    bot.api.wait_for(lambda: "wordcloud" in bot.api.menu(), 30, "wordcloud to come back")


def test_admin_commands_are_refused_to_others(bot: RunningBot) -> None:
    reloads = bot.log().count("manual_reload_done")
    assert bot.ask(GROUP_A, BOB, "/reload").text == "Sorry, /reload is for the bot's admins only."
    assert bot.ask(GROUP_A, BOB, "/plugins").text == "Sorry, /plugins is for the bot's admins only."
    listing = bot.ask(GROUP_A, ADMIN, "/plugins").text
    assert f"{PROBE_PLUGIN} 0.1.0: loaded" in listing
    assert "heatmap_command" in listing and "word_cloud" in listing
    assert bot.log().count("manual_reload_done") == reloads


def test_forgetme_in_private_erases_the_member_everywhere(bot: RunningBot) -> None:
    api, dave = bot.api, 30_999
    for chat in (GROUP_A, GROUP_B):
        api.send_message(chat, dave, "remember me?")
    bot.ask(GROUP_A, ALICE, "/probe")  # in order: Dave's messages are stored
    assert {r["chat_id"] for r in bot.export() if r["user_id"] == dave} == {GROUP_A, GROUP_B}
    before = len(api.sent_to(dave))
    api.send_message(dave, dave, "/forgetme", chat_type="private")
    reply = api.wait_for_reply(dave, before, 20)
    assert reply.text.startswith("Done: I forgot 2 of your messages in 2 chats, and your name")
    assert not [r for r in bot.export() if r["user_id"] == dave]
    api.send_message(GROUP_B, dave, "and now?")
    bot.ask(GROUP_B, ALICE, "/probe")
    assert not [r for r in bot.export() if r["user_id"] == dave]
    assert "plugin_forget_failed" not in bot.log()


def test_500_messages_during_10_reloads_are_all_stored_once(bot: RunningBot) -> None:
    api = bot.api
    chats, users = (GROUP_A, GROUP_B, GROUP_C), (ALICE, BOB, CAROL)
    sent = []
    reload_replies_before = len([m for m in api.sent_to(GROUP_C) if m.text.startswith("Reload")])
    for burst in range(10):
        for i in range(50):
            n = burst * 50 + i
            sent.append(api.send_message(chats[n % 3], users[n % 3], f"bulk {n}"))
        api.send_message(GROUP_C, ADMIN, "/reload")
    api.wait_for(
        lambda: (
            len([m for m in api.sent_to(GROUP_C) if m.text.startswith("Reload")])
            >= reload_replies_before + 10
        ),
        60,
        "10 reload answers",
    )
    bot.ask(GROUP_C, ALICE, "/probe", timeout=30)  # everything injected before is processed
    replies = [m.text for m in api.sent_to(GROUP_C) if m.text.startswith("Reload")]
    assert len(replies) == reload_replies_before + 10  # each /reload handled exactly once
    assert all(text.startswith("Reload done") for text in replies[-10:]), replies[-10:]
    rows = [r for r in bot.export() if (r["text"] or "").startswith("bulk ")]
    keys = [(r["chat_id"], r["message_id"]) for r in rows]
    assert len(keys) == len(set(keys)) == 500
    assert keys_sent(sent) == set(keys)


def keys_sent(sent: list[dict[str, Any]]) -> set[tuple[int, int]]:
    return {(m["chat"]["id"], m["message_id"]) for m in sent}


def test_token_never_logged(bot: RunningBot) -> None:
    token = bot.api.token
    assert bot.log() and token not in bot.log()
    assert token not in bot.console()
    assert token.split(":")[1] not in bot.log()


def test_the_files_the_bot_creates_are_private(bot: RunningBot) -> None:
    # The bot was started with umask 022; what it wrote must still be owner-only.
    files = [bot.tmp / "e2e.db", bot.tmp / "logs" / "tgstats.log", bot.tmp / "tgstats.pid"]
    files += [bot.tmp / "e2e.db-wal", bot.tmp / "e2e.db-shm"]
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in files if path.exists()}
    assert {"e2e.db", "tgstats.log", "tgstats.pid"} <= modes.keys()
    assert modes == dict.fromkeys(modes, 0o600)
    assert stat.S_IMODE((bot.tmp / "logs").stat().st_mode) == 0o700


def test_tgstats_reload_makes_the_running_bot_reload(bot: RunningBot) -> None:
    pid_file = Path(bot.env["TGSTATS_PID_FILE"])
    assert int(pid_file.read_text()) == bot.process.pid
    before = bot.log().count("manual_reload_done source=SIGHUP")
    done = run_tgstats(bot.env, "reload")
    assert done.returncode == 0, done.stderr
    assert f"pid {bot.process.pid}" in done.stdout
    bot.api.wait_for(
        lambda: bot.log().count("manual_reload_done source=SIGHUP") > before, 30, "the reload"
    )
    bot.check_alive()
    assert bot.ask(GROUP_A, ALICE, "/probe").text  # still answering after the reload


def test_tgstats_reload_without_a_running_bot_is_a_one_line_error(tmp_path: Path) -> None:
    env = without_tgstats_env()
    for args in ([], ["--pid-file", str(tmp_path / "missing.pid")]):
        done = run_tgstats(env, "reload", *args)
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1 and "pid" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_sigterm_stops_cleanly(bot: RunningBot) -> None:
    api = bot.api
    for i in range(100):
        api.send_message(GROUP_A, ALICE, f"last words {i}")
    # Fetched (confirmed to the API) but most still queued or in flight in the bot.
    api.wait_for(lambda: api.pending_count() == 0, 30, "the updates to be fetched")
    bot.process.send_signal(signal.SIGTERM)
    assert bot.process.wait(30) == 0, bot.console()
    assert not Path(bot.env["TGSTATS_PID_FILE"]).exists()  # removed on the way out
    log = bot.log()
    assert "stopping reason=SIGTERM" in log
    assert log.rstrip().splitlines()[-1].split("] ", 1)[1].startswith("stopped")
    stored = [r for r in bot.export() if (r["text"] or "").startswith("last words")]
    assert len(stored) == 100  # in-flight updates finished, none dropped


def test_missing_token_and_unreachable_db_are_one_line_errors(tmp_path: Any) -> None:
    env = without_tgstats_env()
    env["TGSTATS_LOG_FILE"] = str(tmp_path / "x.log")
    done = run_tgstats(env, "run")
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "TGSTATS_TOKEN" in done.stderr
    env.update(
        TGSTATS_TOKEN=fake_bot_api.DEFAULT_TOKEN,
        TGSTATS_DB="postgresql+psycopg://nobody@127.0.0.1:9/none",
    )
    done = run_tgstats(env, "run")
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("tgstats: error")]
    assert len(errors) == 1 and "127.0.0.1" in errors[0], done.stderr
    assert fake_bot_api.DEFAULT_TOKEN not in done.stderr
