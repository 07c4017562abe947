"""The real bot records joins and reactions and runs a scheduled job in each chat's zone.

The chats' time zones and the chat that switches the job's plugin off are set
the way a group's admin does it, with ``/settings`` in the chat.  The
scheduled job is moved to a few seconds from now by editing the plugin while
the bot runs (a hot reload), so nothing waits for a real Monday.
"""

from __future__ import annotations

import os
import subprocess
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tgstats.store import open_store
from tgstats.testing import fill_store, make_chat, make_message, make_user

from .conftest import ADMIN, bot_env, fake_bot_api, launch_bot, make_distribution, stop_bot

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

TOKYO_CHAT, OFF_CHAT, UTC_CHAT = -100901, -100902, -100903
TOKYO = ZoneInfo("Asia/Tokyo")
PLUGIN, PACKAGE = "e2e_digest", "tgstats_e2e_digest"


def digest_source(at: str) -> str:
    return textwrap.dedent(
        f"""\
        from tgstats.plugins import (
            MemberContext, NoConfig, Plugin, ScheduleContext, TextReply, daily,
            on_member_joined, schedule,
        )


        class Digest(Plugin[NoConfig]):
            @schedule(daily(time={at!r}))
            def digest(self, ctx: ScheduleContext) -> TextReply:
                local = ctx.now.astimezone(ctx.zone)
                count = ctx.store.count_messages(ctx.chat_id)
                return TextReply(f"digest {{ctx.zone.key}} {{local:%H:%M:%S}} {{count}} messages")

            @on_member_joined
            async def joined(self, ctx: MemberContext) -> None:
                self.host.log.info("e2e_member_joined", chat_id=ctx.chat_id, user_id=ctx.user_id)
        """
    )


class Bot:
    def __init__(self, api: fake_bot_api.FakeBotApi, process: subprocess.Popen[bytes], tmp: Path):
        self.api, self.process, self.tmp = api, process, tmp
        self.plugin_py = tmp / "site" / PACKAGE / "plugin.py"

    def log(self) -> str:
        path = self.tmp / "logs" / "tgstats.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def alive(self) -> None:
        if self.process.poll() is not None:
            console = (self.tmp / "console.log").read_text(errors="replace")
            raise AssertionError(f"bot exited with {self.process.returncode}:\n{console}")


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    tmp = tmp_path_factory.mktemp("events")
    # Far from now in every zone: nothing fires until the test moves it.
    far = (datetime.now(TOKYO) + timedelta(hours=6)).strftime("%H:%M:%S")
    make_distribution(tmp / "site", PACKAGE, PLUGIN, "Digest", digest_source(far))
    (tmp / "plugins.yaml").write_text(
        "settings:\n  reload_check_interval: 0.2\n  reload_debounce: 0.1\n"
        f"  load_unlisted_plugins: false\nplugins:\n  {PLUGIN}:\n    enabled: true\n"
    )
    # The bot was in these groups before this start: their history is in the store.
    with open_store(f"sqlite:///{tmp / 'e2e.db'}") as store:
        alice = make_user(1, "Alice")
        now = datetime.now(UTC)
        fill_store(
            store,
            [
                make_message(
                    make_chat(chat, f"Chat {chat}"), alice, "earlier", date=now, message_id=10_000
                )
                for chat in (TOKYO_CHAT, OFF_CHAT, UTC_CHAT)
            ],
        )
    with fake_bot_api.ThreadedFakeBotApi() as api:
        env = bot_env(api, tmp)
        process = launch_bot(env, tmp, tmp / "console.log")
        running = Bot(api, process, tmp)
        try:
            api.wait_for(
                lambda: running.alive() or api.call_count("getUpdates"), 60, "the bot to poll"
            )
            # The groups' admin sets them up, as in Telegram.
            for chat, command in [
                (TOKYO_CHAT, "/settings timezone Asia/Tokyo"),
                (OFF_CHAT, "/settings timezone Asia/Tokyo"),
                (OFF_CHAT, f"/settings disable {PLUGIN}"),
            ]:
                before = len(api.sent_to(chat))
                api.send_message(chat, ADMIN, command)
                api.wait_for_reply(chat, before, 20)
            yield running
        finally:
            stop_bot(process)


def wait(check: object, timeout: float, what: str, bot: Bot) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        bot.alive()
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n{bot.log()[-3000:]}")


def test_a_join_and_reactions_are_recorded_once(bot: Bot) -> None:
    api = bot.api
    message = api.send_message(TOKYO_CHAT, 2, "react to me")
    api.member_joined_message(TOKYO_CHAT, 7)
    api.chat_member(TOKYO_CHAT, 7)  # the same join, the other way
    api.reaction(TOKYO_CHAT, message["message_id"], 7, new=("👍",))
    api.reaction_count(TOKYO_CHAT, message["message_id"], {"👍": 2, "🔥": 1})
    wait(lambda: api.pending_count() == 0, 20, "the updates to be confirmed", bot)
    with open_store(f"sqlite:///{bot.tmp / 'e2e.db'}") as store:
        days = store.queries.member_changes(TOKYO_CHAT)
        assert [(d.joins, d.leaves) for d in days] == [(1, 0)]
        [top] = store.queries.top_reacted_messages(TOKYO_CHAT)
        assert (top.message_id, top.reaction_count) == (message["message_id"], 3)
        [member] = [m for m in store.queries.reactions_by_member(TOKYO_CHAT) if m.given]
        assert (member.user.user_id, member.given) == (7, 1)
    wait(lambda: "e2e_member_joined" in bot.log(), 10, "the plugin's join listener", bot)
    assert bot.log().count("e2e_member_joined") == 1


def test_a_scheduled_job_fires_in_the_chats_zone_and_not_where_it_is_off(bot: Bot) -> None:
    api = bot.api
    at = datetime.now(TOKYO) + timedelta(seconds=4)
    sent_before = {chat: len(api.sent_to(chat)) for chat in (TOKYO_CHAT, OFF_CHAT, UTC_CHAT)}

    def new_in(chat: int) -> list[fake_bot_api.SentMessage]:
        return api.sent_to(chat)[sent_before[chat] :]

    # An edit while the bot runs: the reload sets the job up again from the new code.
    tmp = bot.plugin_py.with_name("plugin.py.swp~")
    tmp.write_text(digest_source(at.strftime("%H:%M:%S")))
    os.replace(tmp, bot.plugin_py)
    wait(lambda: new_in(TOKYO_CHAT), 30, "the digest in the Tokyo chat", bot)
    [digest] = new_in(TOKYO_CHAT)
    with open_store(f"sqlite:///{bot.tmp / 'e2e.db'}") as store:
        count = store.queries.count_messages(TOKYO_CHAT)
    assert digest.text == f"digest Asia/Tokyo {at:%H:%M:%S} {count} messages"
    assert "scheduled_job_ran" in bot.log() and f"plugin={PLUGIN}" in bot.log()
    time.sleep(1.5)  # the chat that turned it off, and the UTC chat, hear nothing
    assert new_in(OFF_CHAT) == [] and new_in(UTC_CHAT) == []
    assert len(new_in(TOKYO_CHAT)) == 1  # and it ran once
