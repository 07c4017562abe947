"""At-least-once delivery, poison updates and per-chat concurrency, against `tgstats run`.

The stand-in keeps every update until a ``getUpdates`` offset passes it, like
Telegram, so a bot killed before it confirmed gets the updates again.  A test
plugin's ``/slow N`` sleeps N seconds before answering.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import bot_env, fake_bot_api, launch_bot, make_distribution, run_tgstats

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(150)]

CHAT_A, CHAT_B, CHAT_C, CHAT_P = -100401, -100402, -100403, -100404
ALICE, BOB, CAROL = 3001, 3002, 3003

SLOW_SOURCE = textwrap.dedent(
    '''\
    """A command that takes its time: /slow N sleeps N seconds, then answers."""

    import asyncio

    from tgstats.plugins import CommandContext, NoConfig, Plugin, TextReply, command


    class SlowPlugin(Plugin[NoConfig]):
        @command("slow", "Sleep, then answer")
        async def slow(self, ctx: CommandContext) -> TextReply:
            seconds = float(ctx.args[0]) if ctx.args else 3.0
            await asyncio.sleep(seconds)
            return TextReply(f"slept {seconds:g}")
    '''
)

PLUGINS_YAML = """\
settings:
  hot_reload: false
  load_unlisted_plugins: false
plugins:
  heatmap_command:
    enabled: true
  e2e_slow:
    enabled: true
"""

# Each of these made python-telegram-bot's page parser raise for the whole page.
_GOOD = {
    "message_id": 9_000_001,
    "date": 1_700_000_000,
    "chat": {"id": CHAT_P, "type": "supergroup", "title": "poison"},
    "from": {"id": ALICE, "is_bot": False, "first_name": "Alice"},
    "text": "poison",
}
POISON = [
    json.dumps({"message": {**_GOOD, "date": 2**40}}),
    json.dumps({"message": {k: v for k, v in _GOOD.items() if k != "date"}}),
    json.dumps({"message": {**_GOOD, "from": {"is_bot": False, "first_name": "No id"}}}),
    json.dumps({"message": {**_GOOD, "entities": "bold"}}),
    json.dumps({"message": "a message given as a string " + "x" * 5000}),
]


def install(tmp: Path) -> None:
    make_distribution(tmp / "site", "tgstats_e2e_slow", "e2e_slow", "SlowPlugin", SLOW_SOURCE)
    (tmp / "plugins.yaml").write_text(PLUGINS_YAML)


def start(api: Any, env: dict[str, str], tmp: Path) -> subprocess.Popen[bytes]:
    """Start ``tgstats run`` and wait until it polls (a new getUpdates after its start)."""
    polls = api.call_count("getUpdates")
    process = launch_bot(env, tmp, tmp / "console.log", append=True)  # restarts add to it

    def polling() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"bot exited with {process.returncode}")
        return api.call_count("getUpdates") > polls

    api.wait_for(polling, 60, "the bot to poll")
    return process


def stored(tmp: Path, chat_id: int | None = None) -> list[tuple[int, int, str]]:
    with sqlite3.connect(tmp / "e2e.db") as connection:
        query = "SELECT chat_id, message_id, text FROM messages"
        if chat_id is None:
            return connection.execute(query).fetchall()
        return connection.execute(query + " WHERE chat_id = ?", (chat_id,)).fetchall()


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(30)


def test_sigkill_at_random_points_then_restart_stores_every_message_once(tmp_path: Path) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    install(tmp_path)
    chats, users = (CHAT_A, CHAT_B, CHAT_C), (ALICE, BOB, CAROL)
    with fake_bot_api.ThreadedFakeBotApi() as api:
        env = bot_env(api, tmp_path)
        sent: list[dict[str, Any]] = []

        def feed() -> None:
            for n in range(2000):
                sent.append(api.send_message(chats[n % 3], users[n % 3], f"burst {n}"))
                if n == 30:
                    api.send_message(CHAT_A, ALICE, "/slow 2")  # in flight at the first kill
                if n % 40 == 39:
                    time.sleep(0.05)  # the burst spans the kills: about 2.5 s

        feeder = threading.Thread(target=feed)
        kills = []
        for round_ in range(3):
            process = start(api, env, tmp_path)
            if round_ == 0:
                feeder.start()
            pause = rng.uniform(0.05, 0.8)
            time.sleep(pause)
            process.kill()  # SIGKILL: no chance to flush or confirm anything
            process.wait(10)
            kills.append((round(pause, 2), api.confirmed))
        feeder.join(30)
        process = start(api, env, tmp_path)
        try:
            api.wait_for(lambda: api.pending_count() == 0, 60, "every update confirmed")
        finally:
            assert stop(process) == 0
    rows = [row for row in stored(tmp_path) if row[2].startswith("burst ")]
    keys = [(chat, message) for chat, message, _ in rows]
    expected = {(m["chat"]["id"], m["message_id"]) for m in sent}
    context = f"seed={seed} kills(pause, confirmed)={kills}"
    assert len(sent) == 2000
    assert len(keys) == len(set(keys)) == 2000, context
    assert set(keys) == expected, context
    # The kills really hit updates that were delivered but not yet confirmed.
    assert api.redelivered() > 0, context
    # The slow command was answered at most once per delivery that could have answered it.
    assert len([m for m in api.sent_to(CHAT_A) if m.text == "slept 2"]) <= 2, context


@pytest.fixture(scope="module")
def slow_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path, Any]]:
    tmp = tmp_path_factory.mktemp("delivery")
    install(tmp)
    with fake_bot_api.ThreadedFakeBotApi() as api:
        env = bot_env(api, tmp)
        process = start(api, env, tmp)
        try:
            yield api, tmp, process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)


def test_a_poison_update_is_kept_listed_and_skipped(slow_bot: tuple[Any, Path, Any]) -> None:
    api, tmp, process = slow_bot
    before = [api.send_message(CHAT_P, BOB, f"before poison {n}") for n in range(10)]
    poison_ids = api.inject_raw(*POISON)
    after = [api.send_message(CHAT_P, BOB, f"after poison {n}") for n in range(10)]
    api.wait_for(lambda: api.pending_count() == 0, 20, "every update confirmed")
    assert process.poll() is None
    texts = {text for _, _, text in stored(tmp, CHAT_P)}
    assert {m["text"] for m in before + after} <= texts
    assert "poison" not in texts

    env = bot_env(api, tmp)
    done = run_tgstats(env, "rejected", "--json")
    assert done.returncode == 0, done.stderr
    listed = [json.loads(line) for line in done.stdout.splitlines()]
    assert [row["update_id"] for row in listed] == poison_ids
    assert all(row["reason"] for row in listed)
    assert json.loads(listed[4]["raw"])["message"].startswith("a message given as a string")
    plain = run_tgstats(env, "rejected")
    assert plain.returncode == 0 and plain.stdout.count("update_id=") == 5

    log = (tmp / "logs" / "tgstats.log").read_text()
    assert log.count("update_rejected") == 5
    assert len(log) < 50_000 and max(len(line) for line in log.splitlines()) < 2_000


def test_a_slow_command_in_one_chat_holds_up_no_other_chat(
    slow_bot: tuple[Any, Path, Any],
) -> None:
    api, tmp, _process = slow_bot
    warm = len(api.sent_to(CHAT_B))
    api.send_message(CHAT_B, BOB, "/heatmap")  # the first picture pays for importing matplotlib
    api.wait_for_reply(CHAT_B, warm, 30)

    slow_sent = time.monotonic()
    api.send_message(CHAT_A, ALICE, "/slow 3")
    api.wait_for(lambda: api.pending_count() == 0, 5, "/slow confirmed")
    stored_before = len(stored(tmp, CHAT_B))
    for n in range(200):
        api.send_message(CHAT_B, BOB, f"meanwhile {n}")
    api.wait_for(
        lambda: len(stored(tmp, CHAT_B)) == stored_before + 200, 2.5, "chat B's 200 messages"
    )
    before = len(api.sent_to(CHAT_B))
    asked = time.monotonic()
    api.send_message(CHAT_B, BOB, "/heatmap")
    reply = api.wait_for_reply(CHAT_B, before, 10)
    answered = time.monotonic()

    assert reply.method == "sendPhoto"
    assert answered - asked < 1.0, f"/heatmap took {answered - asked:.2f} s"
    assert len(stored(tmp, CHAT_B)) == stored_before + 201  # 200 messages + the /heatmap
    assert api.sent_to(CHAT_A) == [] and time.monotonic() - slow_sent < 3.0  # still sleeping
    slow = api.wait_for_reply(CHAT_A, 0, 10)
    assert slow.text == "slept 3"
    assert time.monotonic() - slow_sent >= 3.0


def test_sigterm_after_poison_exits_0_with_stopped(slow_bot: tuple[Any, Path, Any]) -> None:
    api, tmp, process = slow_bot
    api.inject_raw(POISON[0])
    api.send_message(CHAT_P, BOB, "last one")
    api.wait_for(lambda: api.pending_count() == 0, 20, "every update confirmed")
    assert stop(process) == 0
    last = (tmp / "logs" / "tgstats.log").read_text().rstrip().splitlines()[-1]
    assert last.split("] ", 1)[1].startswith("stopped")
