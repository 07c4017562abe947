"""The real bot with the shipped weekly digest: /digest answers with a picture, and the
weekly post fires at the day and time a chat's admin set with /settings, in that chat
only (the other chat never switched it on)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tgstats.store import open_store
from tgstats.testing import fill_store, make_chat, make_message, make_user

from .conftest import ADMIN, bot_env, fake_bot_api, launch_bot, stop_bot

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

ON_CHAT, OFF_CHAT = -100931, -100932
TOKYO = ZoneInfo("Asia/Tokyo")
PNG = b"\x89PNG\r\n\x1a\n"


class Bot:
    def __init__(self, api: fake_bot_api.FakeBotApi, process: subprocess.Popen[bytes], tmp: Path):
        self.api, self.process, self.tmp = api, process, tmp

    def log(self) -> str:
        path = self.tmp / "logs" / "tgstats.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def alive(self) -> None:
        if self.process.poll() is not None:
            console = (self.tmp / "console.log").read_text(errors="replace")
            raise AssertionError(f"bot exited with {self.process.returncode}:\n{console}")

    def wait(self, check: object, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.alive()
            if check():  # type: ignore[operator]
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}\n{self.log()[-3000:]}")


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    tmp = tmp_path_factory.mktemp("digest")
    (tmp / "site").mkdir()
    (tmp / "plugins.yaml").write_text(
        "settings:\n  load_unlisted_plugins: false\nplugins:\n  weekly_digest:\n    enabled: true\n"
    )
    # Last week's chat, in both groups: something for the digest to count.
    with open_store(f"sqlite:///{tmp / 'e2e.db'}") as store:
        alice, bob = make_user(1, "Alice"), make_user(2, "Bob")
        now = datetime.now(UTC)
        fill_store(
            store,
            [
                make_message(make_chat(chat, f"Chat {chat}"), who, text, date=now - ago)
                for chat in (ON_CHAT, OFF_CHAT)
                for who, text, ago in [
                    (alice, "coffee hike", timedelta(days=2)),
                    (bob, "coffee tea", timedelta(days=3)),
                    (alice, "hike again", timedelta(hours=30)),
                ]
            ],
        )
    with fake_bot_api.ThreadedFakeBotApi() as api:
        process = launch_bot(bot_env(api, tmp), tmp, tmp / "console.log")
        running = Bot(api, process, tmp)
        try:
            api.wait_for(
                lambda: running.alive() or api.call_count("getUpdates"), 60, "the bot to poll"
            )
            yield running
        finally:
            stop_bot(process)


def test_digest_answers_with_a_picture(bot: Bot) -> None:
    api = bot.api
    before = len(api.sent_to(OFF_CHAT))
    api.send_message(OFF_CHAT, 2, "/digest")
    api.wait_for_reply(OFF_CHAT, before, 30)
    reply = api.sent_to(OFF_CHAT)[before]
    if reply.method == "sendMessage":  # a Monday morning: nothing this week yet
        assert "no digest" in reply.text
        return
    assert reply.method == "sendPhoto" and reply.photo is not None
    assert reply.photo.startswith(PNG)
    assert "messages" in reply.caption


def test_the_weekly_post_fires_where_it_is_on_and_nowhere_else(bot: Bot) -> None:
    api = bot.api

    def settings(chat: int, text: str) -> None:
        before = len(api.sent_to(chat))
        api.send_message(chat, ADMIN, text)
        api.wait_for_reply(chat, before, 20)

    settings(ON_CHAT, "/settings timezone Asia/Tokyo")
    settings(ON_CHAT, "/settings weekly_digest.enabled true")  # first sight: counting starts
    sent_before = {chat: len(api.sent_to(chat)) for chat in (ON_CHAT, OFF_CHAT)}
    # Today, a few seconds from now, Tokyo time.
    at = datetime.now(TOKYO) + timedelta(seconds=4)
    settings(ON_CHAT, f"/settings weekly_digest.day {at:%a}".lower())
    settings(ON_CHAT, f"/settings weekly_digest.time {at:%H:%M:%S}")
    after = {chat: len(api.sent_to(chat)) for chat in (ON_CHAT, OFF_CHAT)}

    def posts(chat: int) -> list[fake_bot_api.SentMessage]:
        return [m for m in api.sent_to(chat)[after[chat] :] if m.method == "sendPhoto"]

    bot.wait(lambda: posts(ON_CHAT), 40, "the weekly digest in the chat that switched it on")
    [post] = posts(ON_CHAT)
    assert post.photo is not None and post.photo.startswith(PNG)
    assert post.caption.startswith(f"Chat {ON_CHAT} — week of ")
    assert "3 messages" in post.caption
    assert "scheduled_job_ran" in bot.log() and "plugin=weekly_digest" in bot.log()
    time.sleep(1.5)  # once, and the other chat hears nothing
    assert len(posts(ON_CHAT)) == 1
    assert api.sent_to(OFF_CHAT)[sent_before[OFF_CHAT] :] == []
